-- Every source row of id_hierarchy_mapping, cast, with the reason it is
-- rejected (NULL when kept): no ad_id, or an exact copy. Empty parent ids are
-- read as NULL (the sources YAML).

with

{{ flag_source_rows(
    'meta_ads', 'id_hierarchy_mapping', "case when ad_id is null or ad_id = '' then 'null_key' end",
    copy_order_by='ad_id'
) }}

select * from flagged
