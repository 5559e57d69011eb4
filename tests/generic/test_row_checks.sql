{#-
    Failing rows: rows that fail any of the row-by-row checks below, each with
    `failed_checks`, the failing column and check, e.g.
    `meta_spend: in_range [0, +inf); trial_conversion_rate_actual: in_range [0, 1]; `.
    One scan of the model for all its row checks (one test node instead of one
    per column and check), each check as the single-column test it replaces:
      not_null                  a NULL value
      in_range                  a value that is NULL or outside [min_value, max_value]
                                (docs/metrics.md §6: rates and data_quality_score in
                                [0, 1]; money, ratios and counts >= 0)
      accepted_values           a value outside the list (NULL passes, as dbt's own test)
      count_equals_list_length  a count that differs from the number of ids in its
                                comma-separated list, or an empty list that is ''
                                (docs/metrics.md §6, "every count equals the length of its list")

    Arguments (all optional, attached at model level):
      not_null                  list of columns
      in_range                  list of {columns: [...], min_value: n, max_value: n (optional)}
      accepted_values           mapping column -> list of accepted values
      count_equals_list_length  mapping count column -> the list column it counts
-#}
{% test row_checks(model, not_null=[], in_range=[], accepted_values={}, count_equals_list_length={}) %}

{%- set checks = [] -%}
{%- for column in not_null -%}
    {%- do checks.append((column ~ ': not_null', column ~ ' is null')) -%}
{%- endfor -%}
{%- for range in in_range -%}
    {%- for column in range['columns'] -%}
        {%- set failing -%}
            {{ column }} is null or {{ column }} < {{ range['min_value'] }}
            {%- if range.get('max_value') is not none %} or {{ column }} > {{ range['max_value'] }}{% endif -%}
        {%- endset -%}
        {%- set bounds = '[' ~ range['min_value'] ~ ', ' ~ (range['max_value'] ~ ']' if range.get('max_value') is not none else '+inf)') -%}
        {%- do checks.append((column ~ ': in_range ' ~ bounds, failing)) -%}
    {%- endfor -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set quoted = [] -%}
    {%- for value in values %}{% do quoted.append("'" ~ value ~ "'") %}{% endfor -%}
    {%- do checks.append((column ~ ': accepted_values', column ~ ' not in (' ~ quoted | join(', ') ~ ')')) -%}
{%- endfor -%}
{%- for count_column, list_column in count_equals_list_length.items() -%}
    {%- set failing -%}
        {{ count_column }} <> {{ list_length(list_column) }}
            or {{ list_column }} = ''
            or ({{ count_column }} = 0 and {{ list_column }} is not null)
    {%- endset -%}
    {%- do checks.append((count_column ~ ': count_equals_list_length ' ~ list_column, failing)) -%}
{%- endfor -%}
{%- if not checks -%}
    {{ exceptions.raise_compiler_error("row_checks on " ~ model ~ ": no check given") }}
{%- endif -%}

with

checked as (

    select
        {%- set parts = [] -%}
        {%- for label, failing in checks -%}
            {%- do parts.append("case when " ~ failing ~ " then '" ~ label ~ "; ' else '' end") -%}
        {%- endfor %}
        {{ dbt.concat(parts) }} as failed_checks,
        rows_to_check.*
    from {{ model }} as rows_to_check

)

select *
from checked
where failed_checks <> ''

{% endtest %}
