{#-
    Failing rows: the data-quality checks of a model like data_quality_checks
    (one row per check) whose status is 'warn', with their name, subject, count
    and detail. Attached with `config: {severity: warn}`: `dbt build` shows each
    warning, and neither dbt nor `precompute run` stops on it.

    Arguments:
      status_column   the column holding 'pass' or 'warn' (default: status)
-#}
{% test quality_checks_pass(model, status_column='status') %}

select *
from {{ model }}
where {{ status_column }} = 'warn'

{% endtest %}
