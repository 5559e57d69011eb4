{#-
    Failing rows: rows whose count column differs from the number of ids in
    its comma-separated list (metric-contract §6, "every count equals the
    length of its list"). An empty list must be NULL, never '', so a '' list
    fails too.

    Arguments:
      column_name   the count column (the test is attached to it)
      list_column   the comma-separated list it counts
-#}
{% test count_equals_list_length(model, column_name, list_column) %}

select
    *
from {{ model }}
where
    {{ column_name }} <> {{ list_length(list_column) }}
    or {{ list_column }} = ''
    or ({{ column_name }} = 0 and {{ list_column }} is not null)

{% endtest %}
