{#-
    Failing rows: rows where a column is smaller than in the previous row of
    its partition, in order_by order (docs/metrics.md §9: a cohort's gross
    revenue and refunds never decrease as the horizon grows). Each failing
    row names the column and both values.

    Arguments (attached at model level):
      columns        the columns that must not decrease
      partition_by   the columns of one sequence, e.g. ['entity_type', 'entity_id', 'cohort_date']
      order_by       the column that orders a sequence, e.g. days_since_cohort
-#}
{% test non_decreasing(model, columns, partition_by, order_by) %}

with

previous_values as (

    select
        {%- for column in partition_by %}
        {{ column }},
        {%- endfor %}
        {{ order_by }},
        {%- for column in columns %}
        {{ column }},
        lag({{ column }}) over (
            partition by {{ partition_by | join(', ') }} order by {{ order_by }}
        ) as previous_{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ model }}

),

decreases as (

    {%- for column in columns %}
    select
        '{{ column }}' as decreasing_column,
        {%- for key in partition_by %}
        {{ key }},
        {%- endfor %}
        {{ order_by }},
        previous_{{ column }} as previous_value,
        {{ column }} as value
    from previous_values
    where {{ column }} < previous_{{ column }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

)

select * from decreases

{% endtest %}
