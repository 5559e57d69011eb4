{% macro overall_and_country_totals(flavour='duckdb') -%}
overall_sums as (

    select
        'all' as breakdown_type,
        'ALL' as country,
        {{ ad_precompute.range_total_sums(flavour) }}
    from overall_rows

),

country_sums as (

    select
        'country' as breakdown_type,
        country_code as country,
        {{ ad_precompute.range_total_sums(flavour) }}
    from country_rows
    group by country_code

),

unioned as (

    select * from overall_sums
    union all
    select * from country_sums

),

totals as (

    select
        breakdown_type,
        country,
        {{ ad_precompute.range_total_metrics(flavour) }}
    from unioned

),

final as (

    select
        {{ ad_precompute.range_total_metric_names() | join(',\n        ') }},
        breakdown_type,
        country,
        meta_spend as total_spend,
        mixpanel_trial_count as total_trials,
        mixpanel_purchase_count as total_purchases,
        adjusted_estimated_revenue_usd as total_revenue
    from totals

)

select * from final
order by breakdown_type asc, total_spend desc, country asc
{%- endmacro %}
