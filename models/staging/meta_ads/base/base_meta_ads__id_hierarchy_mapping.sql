-- Every source row of id_hierarchy_mapping, cast, with the reason it is
-- rejected (NULL when kept): no ad_id, or an exact copy. Empty parent ids are
-- read as NULL (the sources YAML).
{%- set reject_reason %}
case
            when ad_id is null or ad_id = '' then 'null_key'
            when copy_number > 1 then 'exact_duplicate'
        end
{%- endset %}

with

{{ flag_source_rows('meta_ads', 'id_hierarchy_mapping', reject_reason, copy_order_by='ad_id') }}

select * from flagged
