{#-
    Failing rows: rows whose value is NULL or outside [min_value, max_value]
    (metric-contract §6: rates in [0, 1], data_quality_score in [0, 1], money,
    ratios and counts ≥ 0). Leave max_value out for "≥ min_value".

    Arguments:
      column_name   the column (the test is attached to it)
      min_value     inclusive lower bound
      max_value     inclusive upper bound, optional
-#}
{% test in_range(model, column_name, min_value, max_value=none) %}

select *
from {{ model }}
where
    {{ column_name }} is null
    or {{ column_name }} < {{ min_value }}
    {%- if max_value is not none %}
    or {{ column_name }} > {{ max_value }}
    {%- endif %}

{% endtest %}
