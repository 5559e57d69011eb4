{#-
    Fails (one row, with both counts) when the model has not exactly as many
    rows as compare_model: for a model that must hold one row per row of
    another (the range_parts models, one per mart row).

    Arguments (attached at model level):
      compare_model   the model whose row count must be matched, e.g. ref('x')
-#}
{% test row_count_equals(model, compare_model) %}

with

counts as (

    select
        (select count(*) from {{ model }}) as model_rows,
        (select count(*) from {{ compare_model }}) as compare_model_rows

)

select * from counts
where model_rows != compare_model_rows

{% endtest %}
