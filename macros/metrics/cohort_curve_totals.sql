{#- The cohort curves over a range of cohort dates (docs/metrics.md §9): for each
    horizon N, the sums over the range's complete rows, how many rows were
    complete, and the ratio of the sums. Shared by the DuckDB analyses and the
    serving copy's (flavour 'sqlite', where money is REAL and a sum is rounded back
    to its decimal scale, as range_total_sums does). -#}

{#- The columns of entity_cohort_curves whose column meta (the metric catalogue,
    models/marts/_marts__models.yml) has `curve_total` ('sum' or 'formula'), in
    table order; with `kind`, only those of that kind. Empty while dbt parses. -#}
{% macro cohort_curve_columns(kind=none) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in ad_precompute.cohort_curve_model().columns.values() -%}
            {%- set curve_total = (column.meta or {}).get('curve_total') -%}
            {%- if curve_total and (kind is none or curve_total == kind) -%}
                {%- do names.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not names -%}
            {{ exceptions.raise_compiler_error('cohort curves: no column of entity_cohort_curves has meta curve_total') }}
        {%- endif -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{% macro cohort_curve_model() -%}
    {%- set models = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', 'entity_cohort_curves') | list -%}
    {%- if models | length != 1 -%}
        {{ exceptions.raise_compiler_error('cohort curves: the graph has no model entity_cohort_curves') }}
    {%- endif -%}
    {{ return(models[0]) }}
{%- endmacro %}

{#- The horizons the entity table shows (column meta page.table_horizons of
    cohort_roas), each as the column d<N>_cohort_roas; empty while dbt parses. -#}
{% macro cohort_table_horizons() -%}
    {%- set horizons = [] -%}
    {%- if execute -%}
        {%- set column = ad_precompute.cohort_curve_model().columns.get('cohort_roas') -%}
        {%- for horizon in ((column.meta or {}).get('page') or {}).get('table_horizons', []) -%}
            {%- do horizons.append(horizon | int) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(horizons) }}
{%- endmacro %}

{#- The entity table's curve columns: d<N>_cohort_roas for each table horizon, then payback_days. -#}
{% macro cohort_table_columns() -%}
    {%- set names = [] -%}
    {%- for horizon in ad_precompute.cohort_table_horizons() -%}
        {%- do names.append('d' ~ horizon ~ '_cohort_roas') -%}
    {%- endfor -%}
    {%- do names.append('payback_days') -%}
    {{ return(names) }}
{%- endmacro %}

{#- The decimal scale of summed curve column `name` in flavour sqlite (its sums are
    rounded back to it, as range_total_sums does); none for DuckDB or a non-decimal. -#}
{% macro cohort_curve_scale(name, flavour) -%}
    {%- set data_type = ad_precompute.cohort_curve_model().columns[name].data_type or '' -%}
    {{ return(data_type.split(',')[1].rstrip(')') | int
        if flavour == 'sqlite' and data_type.startswith('decimal(') else none) }}
{%- endmacro %}

{#- The columns of entity_curve_running_parts, one row per entity and cohort date:
    for each horizon N of the var cohort_horizons, each summed curve column over the
    complete cohort dates, complete_cohort_days and cohort_days, named <name>_d<N>.
    [{column, expression}]: `expression` is the day's value, over entity_cohort_curves
    rows grouped by entity and cohort date. -#}
{% macro cohort_curve_running_columns() -%}
    {%- set columns = [] -%}
    {%- for horizon in ad_precompute.cohort_horizons() -%}
        {%- set this = 'days_since_cohort = ' ~ horizon -%}
        {%- for name in ad_precompute.cohort_curve_columns('sum') -%}
            {%- do columns.append({'column': name ~ '_d' ~ horizon,
                'expression': 'sum(case when ' ~ this ~ ' and is_complete then ' ~ name ~ ' else 0 end)'}) -%}
        {%- endfor -%}
        {%- do columns.append({'column': 'complete_cohort_days_d' ~ horizon,
            'expression': 'sum(case when ' ~ this ~ ' and is_complete then 1 else 0 end)'}) -%}
        {%- do columns.append({'column': 'cohort_days_d' ~ horizon,
            'expression': 'sum(case when ' ~ this ~ ' then 1 else 0 end)'}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- entity_curve_running_parts' columns over entity_cohort_curves rows grouped by entity
    and cohort date: each cohort date's values (cohort_curve_running_columns). -#}
{% macro cohort_curve_date_sums() -%}
    {%- for column in ad_precompute.cohort_curve_running_columns() %}
    {{ column.expression }} as {{ column.column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The same columns as running sums over cohort_date, per entity. -#}
{% macro cohort_curve_running_sums() -%}
    {%- for column in ad_precompute.cohort_curve_running_columns() %}
    {{ ad_precompute.running_sum(column.column, ['entity_type', 'entity_id'], 'cohort_date') }}
        as {{ column.column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- curve_sums' columns (cohort_curve_totals, summed) of the horizon `horizon` (a
    days_since_cohort column) from two rows of entity_curve_running_parts: `through_last`
    (the range's last cohort date) minus `before_first` (the day before it, NULL when
    none); in SQLite a decimal sum is rounded back to its scale. -#}
{% macro cohort_curve_differences(through_last, before_first, horizon, flavour='duckdb') -%}
    {%- set sums = ad_precompute.cohort_curve_columns('sum') -%}
    {%- for name in sums + ['complete_cohort_days', 'cohort_days'] %}
    {%- set scale = ad_precompute.cohort_curve_scale(name, flavour) if name in sums else none %}
    {#- no else: `horizon` takes only the values of cohort_horizons (select_cohort_horizons) #}
    case {{ horizon }}
        {%- for n in ad_precompute.cohort_horizons() %}
        when {{ n }} then {{ ad_precompute.running_difference(through_last, before_first, name ~ '_d' ~ n, scale) }}
        {%- endfor %}
    end as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Per entity and horizon over `rows` (entity_type, entity_id, days_since_cohort,
    the summed columns and is_complete; one row per cohort date of the range):
    CTEs curve_sums and curve_totals (net_revenue_usd, meta_spend, cohort_roas,
    complete_cohort_days, cohort_days). cohort_roas is NULL when no cohort date of
    the range is complete for N, otherwise the ratio of the complete rows' sums
    (0 when their spend is 0). summed: `rows` is already curve_sums (one row per
    entity and horizon, e.g. from cohort_curve_differences); only curve_totals is written. -#}
{% macro cohort_curve_totals(rows, flavour='duckdb', summed=false) -%}
{%- if not summed %}
curve_sums as (

    select
        entity_type,
        entity_id,
        days_since_cohort,
        {%- for name in ad_precompute.cohort_curve_columns('sum') %}
        {%- set scale = ad_precompute.cohort_curve_scale(name, flavour) %}
        {%- if scale is not none %}
        round(coalesce(sum(case when is_complete then {{ name }} end), 0), {{ scale }}) as {{ name }},
        {%- else %}
        coalesce(sum(case when is_complete then {{ name }} end), 0) as {{ name }},
        {%- endif %}
        {%- endfor %}
        count(case when is_complete then 1 end) as complete_cohort_days,
        count(*) as cohort_days
    from {{ rows }}
    group by entity_type, entity_id, days_since_cohort

),
{%- endif %}

curve_totals as (

    select
        entity_type,
        entity_id,
        days_since_cohort,
        {%- for name in ad_precompute.cohort_curve_columns() %}
        {%- if name == 'cohort_roas' %}
        case
            when complete_cohort_days > 0
                then {{ ad_precompute.safe_divide('net_revenue_usd', 'meta_spend') }}
        end as cohort_roas,
        {%- else %}
        {{ name }},
        {%- endif %}
        {%- endfor %}
        complete_cohort_days,
        cohort_days
    from {{ rows if summed else 'curve_sums' }}

)
{%- endmacro %}

{#- The payback day of a range (§9): the smallest horizon whose range cohort_roas
    is at least 1 (NULL: none). An aggregate: use with group by, or over (). -#}
{% macro cohort_payback_days(cohort_roas='cohort_roas', horizon='days_since_cohort') -%}
    min(case when {{ cohort_roas }} >= 1 then {{ horizon }} end)
{%- endmacro %}

{#- One row per entity of curve_totals (cohort_curve_totals): the table's curve
    columns (cohort_table_columns). A table horizon that is not among the
    cohort_horizons has no rows: its column is NULL. CTE entity_curves. -#}
{% macro cohort_table_totals() -%}
entity_curves as (

    select
        entity_type,
        entity_id,
        {%- for horizon in ad_precompute.cohort_table_horizons() %}
        max(case when days_since_cohort = {{ horizon }} then cohort_roas end) as d{{ horizon }}_cohort_roas,
        {%- endfor %}
        {{ ad_precompute.cohort_payback_days() }} as payback_days
    from curve_totals
    group by entity_type, entity_id

)
{%- endmacro %}
