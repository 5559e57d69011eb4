{#-
    Failing rows: overall rows whose measures differ from the sum of their
    breakdown rows (docs/metrics.md §6: the Mixpanel counts of an entity-date's
    breakdown rows add up to its overall counts, since each user has exactly
    one country). Overall rows with no breakdown rows must have 0.

    Arguments (attached at model level to the breakdown model):
      overall_model    the relation holding the overall rows
      key_columns      the columns the two relations share as the overall key
      measure_columns  the columns that must add up
-#}
{% test breakdown_sums_to_overall(model, overall_model, key_columns, measure_columns) %}

with

breakdown_totals as (

    select
        {%- for column in key_columns %}
        {{ column }},
        {%- endfor %}
        {%- for measure in measure_columns %}
        sum({{ measure }}) as {{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ model }}
    group by {{ key_columns | join(', ') }}

),

compared as (

    select
        {%- for column in key_columns %}
        overall.{{ column }},
        {%- endfor %}
        {%- for measure in measure_columns %}
        overall.{{ measure }} as overall_{{ measure }},
        coalesce(breakdown_totals.{{ measure }}, 0) as breakdown_{{ measure }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ overall_model }} as overall
    left join breakdown_totals
        on
        {%- for column in key_columns %}
            {% if not loop.first %}and {% endif %}overall.{{ column }} = breakdown_totals.{{ column }}
        {%- endfor %}

)

select *
from compared
where
    {%- for measure in measure_columns %}
    {% if not loop.first %}or {% endif %}overall_{{ measure }} <> breakdown_{{ measure }}
    {%- endfor %}

{% endtest %}
