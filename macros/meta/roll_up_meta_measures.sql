{#- The CTEs of a Meta roll-up model, ending in `meta_rolled_up`, from the model's
    own import CTEs (or relations), passed by name. With a country_mapping the
    rows are rolled up by country code too. -#}
{% macro roll_up_meta_measures(meta_performance, ad_hierarchy, reporting_window, country_mapping=none) -%}
{%- set by_country = country_mapping is not none -%}
{%- set measures = ['spend_usd', 'impressions', 'clicks', 'meta_trials', 'meta_purchases', 'unmapped_country_rows'] -%}
{%- set extra_grain = ['country_code'] if by_country else [] -%}
{%- set extra = (', ' ~ extra_grain | join(', ')) if extra_grain else '' -%}
{%- set carried = ['report_date'] + extra_grain + measures -%}
{%- set performance = 'windowed' -%}

-- the rows of the window{{ ', Meta labels mapped to a country code (unmapped: ZZ)' if by_country }}
windowed as (

    select
        meta_performance.ad_id,
        meta_performance.report_date,
        meta_performance.spend_usd,
        meta_performance.impressions,
        meta_performance.clicks,
        meta_performance.meta_trials,
        meta_performance.meta_purchases,
        {%- if by_country %}
        coalesce(country_mapping.country_code, 'ZZ') as country_code,
        case when country_mapping.country_code is null then 1 else 0 end as unmapped_country_rows
        {%- else %}
        0 as unmapped_country_rows
        {%- endif %}
    from {{ meta_performance }} as meta_performance
    {%- if by_country %}
    left join {{ country_mapping }} as country_mapping
        on meta_performance.meta_country = country_mapping.meta_country
    {%- endif %}
    cross join {{ reporting_window }} as reporting_window
    where meta_performance.report_date between reporting_window.start_date and reporting_window.as_of_date

),

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
    inner join {{ ad_hierarchy }} as hierarchy
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
