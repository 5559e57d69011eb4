{% macro default__list_is_subset_failures(model, column_name, superset_column) %}
{#- Portable: split the subset list with split_part over a number series. -#}
with

numbers as (

    {{ dbt.generate_series(1000) }}

),

subset_ids as (

    select
        rows_to_check.*,
        {{ dbt.split_part('rows_to_check.' ~ column_name, "','", 'numbers.generated_number') }} as subset_id
    from {{ model }} as rows_to_check
    inner join numbers
        on numbers.generated_number <= {{ list_length('rows_to_check.' ~ column_name) }}

)

select *
from subset_ids
where
    {{ superset_column }} is null
    or {{ dbt.position(dbt.concat(["','", 'subset_id', "','"]), dbt.concat(["','", superset_column, "','"])) }} = 0

{% endmacro %}


{% macro duckdb__list_is_subset_failures(model, column_name, superset_column) %}

select *
from {{ model }}
where
    {{ column_name }} is not null
    and (
        {{ superset_column }} is null
        or not list_has_all(
            string_split({{ superset_column }}, ','),
            string_split({{ column_name }}, ',')
        )
    )

{% endmacro %}
