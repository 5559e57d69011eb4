{#-
    Failing rows: campaign (or adset) rows whose Meta measures differ from the
    sum of the same day's rows of the ads mapped to it in id_hierarchy_mapping
    (docs/metrics.md §6, "the Meta measures of a campaign equal the sum of its
    mapped ads' measures"). Money is compared within half a cent per ad, since
    each stored value is rounded to cents on its own.

    Arguments (attached at model level):
      mapping_model     relation with ad_id and <parent_level>_id
      parent_level      'campaign' or 'adset'
      measure_columns   integer measures compared exactly
      money_columns     money measures compared within rounding
      extra_key_columns further key columns, e.g. ['country_code'] for the breakdown
-#}
{% test parent_equals_sum_of_ads(model, mapping_model, parent_level, measure_columns, money_columns=[], extra_key_columns=[]) %}

{%- set keys = ['date'] + extra_key_columns -%}
{%- set all_measures = measure_columns + money_columns -%}

with

ad_rows as (

    select
        mapping.{{ parent_level }}_id as parent_id,
        {%- for key in keys %}
        ad_rows.{{ key }},
        {%- endfor %}
        count(*) as ad_count,
        {%- for measure in all_measures %}
        sum(ad_rows.{{ measure }}) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ model }} as ad_rows
    inner join {{ mapping_model }} as mapping
        on ad_rows.entity_id = mapping.ad_id
    where ad_rows.entity_type = 'ad' and mapping.{{ parent_level }}_id is not null
    group by mapping.{{ parent_level }}_id, {% for key in keys %}ad_rows.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}

),

parent_rows as (

    select *
    from {{ model }}
    where entity_type = '{{ parent_level }}'

),

compared as (

    select
        parent_rows.entity_id as parent_id,
        {%- for key in keys %}
        parent_rows.{{ key }},
        {%- endfor %}
        coalesce(ad_rows.ad_count, 0) as ad_count,
        {%- for measure in all_measures %}
        parent_rows.{{ measure }} as parent_{{ measure }},
        coalesce(ad_rows.{{ measure }}, 0) as ads_{{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from parent_rows
    left join ad_rows
        on
            parent_rows.entity_id = ad_rows.parent_id
            {%- for key in keys %}
            and parent_rows.{{ key }} = ad_rows.{{ key }}
            {%- endfor %}

)

select *
from compared
where
    {%- for measure in measure_columns %}
    {% if not loop.first %}or {% endif %}parent_{{ measure }} <> ads_{{ measure }}
    {%- endfor %}
    {%- for measure in money_columns %}
    or abs(parent_{{ measure }} - ads_{{ measure }}) > 0.005 * (ad_count + 1)
    {%- endfor %}

{% endtest %}
