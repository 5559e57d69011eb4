{#-
    Failing rows (docs/metrics.md §9 gate), each with its `problem`:
      'missing'             an (entity, day) of daily_model × a horizon of the var
                            cohort_horizons with no row in the model
      'outside the grid'    a row of the model with no such (entity, day, horizon)
      'meta_spend differs'  a row whose meta_spend is not the day's meta_spend
                            in daily_model

    Arguments (attached at model level):
      daily_model   the daily mart, one row per (entity_type, entity_id, date)
-#}
{% test cohort_curve_grid_complete(model, daily_model) %}

with

horizons as (

    {{ ad_precompute.select_cohort_horizons() }}

),

expected as (

    select
        daily.entity_type,
        daily.entity_id,
        daily.date as cohort_date,
        horizons.days_since_cohort,
        daily.meta_spend
    from {{ daily_model }} as daily
    cross join horizons

),

compared as (

    select
        case
            when curves.entity_type is null then 'missing'
            when expected.entity_type is null then 'outside the grid'
            when curves.meta_spend <> expected.meta_spend then 'meta_spend differs'
        end as problem,
        coalesce(expected.entity_type, curves.entity_type) as entity_type,
        coalesce(expected.entity_id, curves.entity_id) as entity_id,
        coalesce(expected.cohort_date, curves.cohort_date) as cohort_date,
        coalesce(expected.days_since_cohort, curves.days_since_cohort) as days_since_cohort,
        expected.meta_spend as expected_meta_spend,
        curves.meta_spend
    from expected
    full outer join {{ model }} as curves
        on
            expected.entity_type = curves.entity_type
            and expected.entity_id = curves.entity_id
            and expected.cohort_date = curves.cohort_date
            and expected.days_since_cohort = curves.days_since_cohort

)

select * from compared
where problem is not null

{% endtest %}
