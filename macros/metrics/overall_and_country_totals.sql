{% macro overall_and_country_totals(flavour='duckdb', split_countries=false) -%}
overall_sums as (

    select
        'all' as breakdown_type,
        'ALL' as country,
        {{ ad_precompute.range_total_sums(flavour) }}
    from overall_rows

),

{%- if split_countries %}

{%- set delivery = ad_precompute.range_total_delivery_parts() %}
{%- set events = ad_precompute.range_total_event_parts() %}
country_delivery_sums as (

    select
        country_code,
        {{ ad_precompute.range_total_sums(flavour, delivery) }}
    from country_delivery_rows
    group by country_code

),

country_event_sums as (

    select
        country_code,
        {{ ad_precompute.range_total_sums(flavour, events) }}
    from country_event_rows
    group by country_code

),

-- every country of the range has delivery rows; one without event rows has 0 events
country_sums as (

    select
        'country' as breakdown_type,
        country_delivery_sums.country_code as country,
        {{ ad_precompute.range_total_split_parts('country_delivery_sums', 'country_event_sums') }}
    from country_delivery_sums
    left join country_event_sums
        on country_delivery_sums.country_code = country_event_sums.country_code

),
{%- else %}

country_sums as (

    select
        'country' as breakdown_type,
        country_code as country,
        {{ ad_precompute.range_total_sums(flavour) }}
    from country_rows
    group by country_code

),
{%- endif %}

unioned as (

    select * from overall_sums
    union all
    select * from country_sums

),

totals as (

    select
        breakdown_type,
        country,
        {{ ad_precompute.range_total_metrics(flavour) }},
        {{ ad_precompute.range_total_denominators() }}
    from unioned

),

final as (

    select
        {{ (ad_precompute.range_total_metric_names() + ad_precompute.range_total_denominator_names())
            | join(',\n        ') }},
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

