{% macro roll_up_meta_measures(performance, hierarchy, extra_grain=[]) -%}
{%- set measures = ['spend_usd', 'impressions', 'clicks', 'meta_trials', 'meta_purchases', 'unmapped_country_rows'] -%}
{%- set extra = (', ' ~ extra_grain | join(', ')) if extra_grain else '' -%}
{%- set carried = ['report_date'] + extra_grain + measures -%}

per_level as (

    select
        'ad' as entity_type,
        performance.ad_id as entity_id,
        {%- for column in carried %}
        performance.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ performance }} as performance

    {%- for level in ['adset', 'campaign'] %}

    union all

    select
        '{{ level }}' as entity_type,
        hierarchy.{{ level }}_id as entity_id,
        {%- for column in carried %}
        performance.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ performance }} as performance
    inner join {{ hierarchy }} as hierarchy
        on performance.ad_id = hierarchy.ad_id
    where hierarchy.{{ level }}_id is not null
    {%- endfor %}

),

meta_rolled_up as (

    select
        entity_type,
        entity_id,
        report_date{{ extra }},
        sum(spend_usd) as meta_spend_usd,
        sum(impressions) as meta_impressions,
        sum(clicks) as meta_clicks,
        sum(meta_trials) as meta_trials,
        sum(meta_purchases) as meta_purchases,
        sum(unmapped_country_rows) as unmapped_country_rows
    from per_level
    group by entity_type, entity_id, report_date{{ extra }}

)
{%- endmacro %}
