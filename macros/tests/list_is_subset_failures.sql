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
{{ ad_precompute.array_list_is_subset_failures(model, column_name, superset_column) }}
{% endmacro %}

{% macro spark__list_is_subset_failures(model, column_name, superset_column) %}
{{ ad_precompute.array_list_is_subset_failures(model, column_name, superset_column) }}
{% endmacro %}

{% macro array_list_is_subset_failures(model, column_name, superset_column) %}

select *
from {{ model }}
where
    {{ column_name }} is not null
    and (
        {{ superset_column }} is null
        or {{ adapter.dispatch('list_has_ids_outside', 'ad_precompute')(column_name, superset_column) }}
    )

{% endmacro %}

{% macro duckdb__list_has_ids_outside(subset, superset) -%}
    not list_has_all(
            string_split({{ superset }}, ','),
            string_split({{ subset }}, ',')
        )
{%- endmacro %}

{% macro spark__list_has_ids_outside(subset, superset) -%}
    size(array_except(split({{ subset }}, ','), split({{ superset }}, ','))) > 0
{%- endmacro %}
