{#-
    Failing rows: keys that occur more than once, each with its number of rows
    and a readable `conflicting_key` (e.g. `ad_id=123 | report_date=2025-01-02`),
    so the failure names the key (docs/metrics.md §2: two different Meta rows
    for the same key fail the gate). Also fails NULL key parts.

    Arguments (attached at model level):
      key_columns   the columns that together must be unique and not null
-#}
{% test unique_key(model, key_columns) %}

select
    {{ describe_record(key_columns, separator=' | ') }} as conflicting_key,
    count(*) as row_count
from {{ model }}
group by {{ key_columns | join(', ') }}
having
    count(*) > 1
    {%- for column in key_columns %}
    or {{ column }} is null
    {%- endfor %}

{% endtest %}
