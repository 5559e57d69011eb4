{#-
    Failing rows: rows of the model with no row of the same key in the parent
    model (docs/metrics.md §6, "every breakdown row has its overall row"): a
    composite-key relationships test.

    Arguments (attached at model level):
      parent_model   the relation that must hold every key
      key_columns    the shared key columns
-#}
{% test has_parent_row(model, parent_model, key_columns) %}

select child.*
from {{ model }} as child
left join {{ parent_model }} as parent
    on
    {%- for column in key_columns %}
        {% if not loop.first %}and {% endif %}child.{{ column }} = parent.{{ column }}
    {%- endfor %}
where parent.{{ key_columns[0] }} is null

{% endtest %}
