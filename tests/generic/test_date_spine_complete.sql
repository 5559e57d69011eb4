{#-
    Failing rows: (entity, date) pairs of the expected grid, every entity ×
    every date of the reporting window, that have no row in the model
    (docs/metrics.md §6, "every entity has a row for every date in the
    window"). Rows outside the grid fail too.

    Arguments:
      column_name       the date column of the model (the test is attached to it)
      entity_columns    columns that identify an entity, in the model and in entity_model
      entity_model      the relation listing every entity
      spine_model       the relation listing every date of the window
      spine_date_column the date column of spine_model
-#}
{% test date_spine_complete(model, column_name, entity_columns, entity_model, spine_model, spine_date_column) %}

with

expected as (

    select
        {%- for column in entity_columns %}
        entities.{{ column }},
        {%- endfor %}
        spine.{{ spine_date_column }} as expected_date
    from {{ entity_model }} as entities
    cross join {{ spine_model }} as spine

),

actual as (

    select
        {%- for column in entity_columns %}
        {{ column }},
        {%- endfor %}
        {{ column_name }} as actual_date
    from {{ model }}

),

missing as (

    select
        'missing' as problem,
        {%- for column in entity_columns %}
        expected.{{ column }},
        {%- endfor %}
        expected.expected_date as date_value
    from expected
    left join actual
        on
        {%- for column in entity_columns %}
            expected.{{ column }} = actual.{{ column }} and
        {%- endfor %}
            expected.expected_date = actual.actual_date
    where actual.actual_date is null

),

unexpected as (

    select
        'outside the entity × window grid' as problem,
        {%- for column in entity_columns %}
        actual.{{ column }},
        {%- endfor %}
        actual.actual_date as date_value
    from actual
    left join expected
        on
        {%- for column in entity_columns %}
            expected.{{ column }} = actual.{{ column }} and
        {%- endfor %}
            expected.expected_date = actual.actual_date
    where expected.expected_date is null

)

select * from missing
union all
select * from unexpected

{% endtest %}
