{% macro aggregate_entity_cohorts(pairs_relation, grain_columns) -%}
{%- set grain = grain_columns | join(', ') -%}
{#- each estimated rate (docs/metrics.md §5): the pairs it is the mean over,
    and the rate column of user_product_metrics it averages -#}
{%- set estimated_rates = [
    ('trial_conversion', "pair_type = 'trial'", 'trial_conversion_rate'),
    ('trial_refund', "pair_type = 'trial' and is_converted", 'trial_converted_to_refund_rate'),
    ('purchase_refund', "pair_type = 'purchase'", 'initial_purchase_to_refund_rate'),
] -%}

user_flags as (

    select
        {{ grain }},
        distinct_id,
        max(case when pair_type = 'trial' then 1 else 0 end) as is_trial_user,
        max(case when pair_type = 'trial' and is_post_trial then 1 else 0 end) as is_post_trial_user,
        max(case when pair_type = 'trial' and is_converted then 1 else 0 end) as is_converted_user,
        max(case when pair_type = 'trial' and is_converted and is_refunded then 1 else 0 end)
            as is_trial_refund_user,
        max(case when pair_type = 'purchase' then 1 else 0 end) as is_purchase_user,
        max(case when pair_type = 'purchase' and is_refunded then 1 else 0 end) as is_purchase_refund_user,
        max(case when country_code = 'ZZ' then 1 else 0 end) as is_without_country
    from {{ pairs_relation }}
    group by {{ grain }}, distinct_id

),

user_lists as (

    select
        {{ grain }},
        {%- for list_name in ['trial', 'post_trial', 'converted', 'trial_refund', 'purchase', 'purchase_refund'] %}
        nullif(
            {{ ad_precompute.sorted_id_list(
                "case when is_" ~ list_name ~ "_user = 1 then distinct_id end",
                "distinct_id"
            ) }},
            ''
        ) as {{ list_name }}_user_ids,
        sum(is_{{ list_name }}_user) as {{ list_name }}_users,
        {%- endfor %}
        sum(is_without_country) as users_without_country
    from user_flags
    group by {{ grain }}

),

-- distinct (user, product) pairs of trial ∪ purchase pairs, for estimated revenue and refunds
product_values as (

    select
        {{ grain }},
        distinct_id,
        product_id,
        max(case when has_product_metrics then 1 else 0 end) as has_product_metrics,
        max(current_value_usd) as current_value_usd,
        max(product_day_refund_usd) as refund_usd
    from {{ pairs_relation }}
    group by {{ grain }}, distinct_id, product_id

),

product_value_totals as (

    select
        {{ grain }},
        count(*) as cohort_pairs,
        sum(1 - has_product_metrics) as cohort_pairs_without_metrics,
        coalesce(sum(case when has_product_metrics = 1 then current_value_usd end), 0) as estimated_revenue_usd,
        -- each refund event once, even when it refunds a trial and a purchase pair
        sum(refund_usd) as actual_refunds_usd
    from product_values
    group by {{ grain }}

),

pair_totals as (

    select
        {{ grain }},

        -- estimated rates: means over the pairs that have a metrics row (and a
        -- non-NULL rate), and how many pairs entered each mean
        {%- for name, pairs, rate in estimated_rates %}
        avg(case when {{ pairs }} and has_product_metrics then {{ rate }} end)
            as {{ name }}_rate_estimated,
        count(case when {{ pairs }} and has_product_metrics then {{ rate }} end)
            as {{ name }}_estimate_pair_count,
        {%- endfor %}

        -- money
        sum(
            case
                when pair_type = 'trial' and is_converted then revenue_usd
                when pair_type = 'purchase' then revenue_usd
                else 0
            end
        ) as actual_revenue_usd
    from {{ pairs_relation }}
    group by {{ grain }}

),

cohorts_aggregated as (

    select
        {%- for column in grain_columns %}
        user_lists.{{ column }},
        {%- endfor %}

        -- user lists and counts
        {%- for list_name in ['trial', 'post_trial', 'converted', 'trial_refund', 'purchase', 'purchase_refund'] %}
        user_lists.{{ list_name }}_user_ids,
        user_lists.{{ list_name }}_users,
        {%- endfor %}

        -- estimated rates (NULL when no pair has a metrics row) and their pair counts
        {%- for name, pairs, rate in estimated_rates %}
        pair_totals.{{ name }}_rate_estimated,
        pair_totals.{{ name }}_estimate_pair_count,
        {%- endfor %}

        -- money
        pair_totals.actual_revenue_usd,
        product_value_totals.actual_refunds_usd,
        product_value_totals.estimated_revenue_usd,

        -- quality inputs
        product_value_totals.cohort_pairs,
        product_value_totals.cohort_pairs_without_metrics,
        user_lists.users_without_country
    from user_lists
    inner join pair_totals
        on
        {%- for column in grain_columns %}
            {% if not loop.first %}and {% endif %}user_lists.{{ column }} = pair_totals.{{ column }}
        {%- endfor %}
    inner join product_value_totals
        on
        {%- for column in grain_columns %}
            {% if not loop.first %}and {% endif %}user_lists.{{ column }} = product_value_totals.{{ column }}
        {%- endfor %}

)
{%- endmacro %}
