{#- The columns of entity_daily_metrics in dbt's graph, in table order (their `meta` is the
    metric catalogue of models/marts/_marts__models.yml); empty while dbt parses (no graph yet). -#}
{% macro range_catalogue_columns() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set marts = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', 'entity_daily_metrics') | list -%}
    {%- if marts | length != 1 -%}
        {{ exceptions.raise_compiler_error('range totals: the graph has no model entity_daily_metrics') }}
    {%- endif -%}
    {{ return(marts[0].columns.values() | list) }}
{%- endmacro %}

{#- The metric columns of the marts, in table order, whose column meta in
    models/marts/_marts__models.yml (the metric catalogue) has a `range_total` key
    (`range_total: sum` only, with `kind='sum'`). Read from the graph of entity_daily_metrics;
    while dbt parses (no graph yet) the list is empty. -#}
{% macro range_total_columns(kind=none) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in ad_precompute.range_catalogue_columns() -%}
            {%- set range_total = (column.meta or {}).get('range_total') -%}
            {%- if range_total and (kind is none or range_total == kind) -%}
                {%- do names.append(column.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not names -%}
            {{ exceptions.raise_compiler_error('range totals: no column of entity_daily_metrics has meta range_total') }}
        {%- endif -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{#- The range denominators (column meta `denominator`), in table order: [{name, part}], the
    name a range answer exposes it under and the summed part it is: a user list's
    `<list>_list_length` (range_total_parts), else the summed column itself. -#}
{% macro range_denominators() -%}
    {%- set found = [] -%}
    {%- for column in ad_precompute.range_catalogue_columns() -%}
        {%- set denominator = (column.meta or {}).get('denominator') -%}
        {%- if denominator -%}
            {%- set part = column.name | replace('_user_ids', '_list_length')
                if (column.meta or {}).get('user_list') else column.name -%}
            {%- do found.append({'name': denominator.get('name', column.name), 'part': part}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- The rates with column meta `provisional: true`: [{name, denominator, part}], the rate,
    its denominator's name (meta `divided_by`) and that denominator's summed part. -#}
{% macro range_provisional_rates() -%}
    {%- set parts = {} -%}
    {%- for denominator in ad_precompute.range_denominators() -%}
        {%- do parts.update({denominator.name: denominator.part}) -%}
    {%- endfor -%}
    {%- set found = [] -%}
    {%- for column in ad_precompute.range_catalogue_columns() -%}
        {%- if (column.meta or {}).get('provisional') -%}
            {%- set denominator = column.meta['divided_by'] -%}
            {%- do found.append({'name': column.name, 'denominator': denominator, 'part': parts[denominator]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{% macro range_total_metric_names() -%}
    {{ return(ad_precompute.range_total_columns()) }}
{%- endmacro %}

{% macro range_total_summed_columns() -%}
    {{ return(ad_precompute.range_total_columns('sum')) }}
{%- endmacro %}

{% macro range_total_parts() -%}
    {%- set parts = {} -%}
    {%- for name in ad_precompute.range_total_summed_columns() -%}
        {%- do parts.update({name: name}) -%}
    {%- endfor -%}
    {%- for rate, pairs in [
        ('trial_conversion_rate_estimated', 'trial_conversion_estimate_pair_count'),
        ('trial_refund_rate_estimated', 'trial_refund_estimate_pair_count'),
        ('purchase_refund_rate_estimated', 'purchase_refund_estimate_pair_count'),
    ] -%}
        {%- do parts.update({rate ~ '_weighted': rate ~ ' * ' ~ pairs}) -%}
    {%- endfor -%}
    {%- for list_name in ['post_trial', 'converted', 'trial_refund', 'purchase', 'purchase_refund'] -%}
        {%- do parts.update({list_name ~ '_list_length': ad_precompute.list_length(list_name ~ '_user_ids')}) -%}
    {%- endfor -%}
    {#- docs/metrics.md §8, provisional refund rates: the denominator's entries of a row whose
        cohort day is too young for its refunds (the model joins int_reporting_window_resolved) -#}
    {%- for rate in ad_precompute.range_provisional_rates() -%}
        {%- do parts.update({'maturing_' ~ rate.denominator:
            'case when date > last_mature_refund_cohort_date then ' ~ parts[rate.part] ~ ' else 0 end'}) -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}

{#- The range parts that Meta's delivery rows carry: the summed columns whose catalogue
    `fed_by` is ad_performance_daily alone (spend, impressions, clicks, Meta's trials and
    purchases). Every other part comes from the events, and is 0 on most country rows. -#}
{% macro range_total_delivery_parts() -%}
    {%- set names = [] -%}
    {%- for column in ad_precompute.range_catalogue_columns() -%}
        {%- if column.name in ad_precompute.range_total_summed_columns()
            and (column.meta or {}).get('fed_by') == ['ad_performance_daily'] -%}
            {%- do names.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- Every other range part (range_total_delivery_parts), in range_total_parts order. -#}
{% macro range_total_event_parts() -%}
    {%- set delivery = ad_precompute.range_total_delivery_parts() -%}
    {{ return(ad_precompute.range_total_parts().keys() | reject('in', delivery) | list) }}
{%- endmacro %}

{#- Every range part, in range_total_parts order, from a relation of delivery parts
    (range_total_delivery_parts) left-joined to one of event parts
    (range_total_event_parts): an event part is 0 (0.0 for a decimal one) where the join
    found no row. -#}
{% macro range_total_split_parts(delivery, events) -%}
    {%- set delivery_parts = ad_precompute.range_total_delivery_parts() -%}
    {%- set scales = ad_precompute.range_total_part_scales() -%}
    {%- for name in ad_precompute.range_total_parts() %}
    {%- if name in delivery_parts %}
    {{ delivery }}.{{ name }} as {{ name }}{{ ',' if not loop.last }}
    {%- else %}
    coalesce({{ events }}.{{ name }}, {{ '0.0' if name in scales else '0' }}) as {{ name }}{{ ',' if not loop.last }}
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{% macro range_total_parts_columns() -%}
    {%- for name, expression in ad_precompute.range_total_parts().items() %}
    {{ expression }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The decimal scale of each part stored as a decimal in the marts (money: 2; a
    weighted estimate: its rate's scale), from the marts' column data types. -#}
{% macro range_total_part_scales() -%}
    {%- set scales = {} -%}
    {%- if execute -%}
        {%- set columns = {} -%}
        {%- for column in ad_precompute.range_catalogue_columns() -%}
            {%- do columns.update({column.name: column}) -%}
        {%- endfor -%}
        {%- for name, expression in ad_precompute.range_total_parts().items() -%}
            {%- set column = columns.get(name) or columns.get(name | replace('_weighted', '')) -%}
            {%- set data_type = (column.data_type or '') if column else '' -%}
            {%- if data_type.startswith('decimal(') -%}
                {%- do scales.update({name: data_type.split(',')[1].rstrip(')') | int}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(scales) }}
{%- endmacro %}

{#- flavour 'duckdb' (the release file) or 'sqlite' (its serving copy, where the
    decimal parts are REAL): in SQLite a decimal part's sum is rounded back to its
    scale, so that it is the same double as DuckDB's exact decimal sum. -#}
{% macro range_total_sums(flavour='duckdb', names=none) -%}
    {%- set scales = ad_precompute.range_total_part_scales() if flavour == 'sqlite' else {} -%}
    {%- for name in (names if names is not none else ad_precompute.range_total_parts()) %}
    {%- if name in scales %}
    round(coalesce(sum({{ name }}), 0), {{ scales[name] }}) as {{ name }}{{ ',' if not loop.last }}
    {%- else %}
    coalesce(sum({{ name }}), 0) as {{ name }}{{ ',' if not loop.last }}
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- Every range part as a running sum over `order_by` within `partition_by`: the sums
    of the partition's rows up to and including this one. A range's sums are then the
    difference of two rows (range_total_differences). -#}
{% macro range_total_running_sums(partition_by, order_by) -%}
    {%- for name in ad_precompute.range_total_parts() %}
    {{ ad_precompute.running_sum(name, partition_by, order_by) }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro running_sum(expression, partition_by, order_by) -%}
    sum({{ expression }}) over (
        partition by {{ partition_by | join(', ') }}
        order by {{ order_by }}
        rows between unbounded preceding and current row
    )
{%- endmacro %}

{#- A range's sums (named as range_total_sums names them) from two rows of running sums
    (range_total_running_sums): `through_last`, the row of the range's last day with rows,
    minus `before_first`, the last row before the range (NULL when there is none). In
    SQLite a decimal part is rounded back to its scale, as range_total_sums does. -#}
{% macro range_total_differences(through_last, before_first, flavour='duckdb') -%}
    {%- set scales = ad_precompute.range_total_part_scales() if flavour == 'sqlite' else {} -%}
    {%- for name in ad_precompute.range_total_parts() %}
    {{ ad_precompute.running_difference(through_last, before_first, name, scales.get(name)) }}
        as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro running_difference(through_last, before_first, name, scale=none) -%}
    {%- set difference = through_last ~ '.' ~ name ~ ' - coalesce(' ~ before_first ~ '.' ~ name ~ ', 0)' -%}
    {%- if scale is not none -%}round({{ difference }}, {{ scale }}){%- else -%}{{ difference }}{%- endif -%}
{%- endmacro %}

{% macro range_total_metrics(flavour='duckdb') -%}
    {%- set formulas = {
        'trial_conversion_rate_estimated': ad_precompute.safe_divide(
            'trial_conversion_rate_estimated_weighted', 'trial_conversion_estimate_pair_count'),
        'trial_conversion_rate_actual': ad_precompute.safe_divide(
            'converted_list_length', 'post_trial_list_length'),
        'trial_refund_rate_estimated': ad_precompute.safe_divide(
            'trial_refund_rate_estimated_weighted', 'trial_refund_estimate_pair_count'),
        'trial_refund_rate_actual': ad_precompute.safe_divide(
            'trial_refund_list_length', 'converted_list_length'),
        'purchase_refund_rate_estimated': ad_precompute.safe_divide(
            'purchase_refund_rate_estimated_weighted', 'purchase_refund_estimate_pair_count'),
        'purchase_refund_rate_actual': ad_precompute.safe_divide(
            'purchase_refund_list_length', 'purchase_list_length'),
        'profit_usd': 'round(adjusted_estimated_revenue_usd - meta_spend, 2)' if flavour == 'sqlite'
            else 'adjusted_estimated_revenue_usd - meta_spend',
        'estimated_roas': ad_precompute.safe_divide('adjusted_estimated_revenue_usd', 'meta_spend'),
        'trial_accuracy_ratio': ad_precompute.trial_accuracy_ratio('mixpanel_trial_count', 'meta_trial_count'),
        'purchase_accuracy_ratio': ad_precompute.purchase_accuracy_ratio(
            'mixpanel_purchase_count', 'meta_purchase_count'),
        'mixpanel_cost_per_trial': ad_precompute.safe_divide('meta_spend', 'mixpanel_trial_count'),
        'mixpanel_cost_per_purchase': ad_precompute.safe_divide('meta_spend', 'mixpanel_purchase_count'),
        'meta_cost_per_trial': ad_precompute.safe_divide('meta_spend', 'meta_trial_count'),
        'meta_cost_per_purchase': ad_precompute.safe_divide('meta_spend', 'meta_purchase_count'),
        'click_to_trial_rate': ad_precompute.safe_divide('mixpanel_trial_count * 100', 'meta_clicks'),
    } -%}
    {%- for name in ad_precompute.range_total_metric_names() %}
    {{ formulas.get(name, name) }} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The range counts a rate divides by that are no range metric (a user list's summed length,
    named by its catalogue meta), then one 0/1 flag `<rate>_provisional` per provisional rate:
    1 when more than half of its denominator's entries have a cohort day later than
    as_of_date - refund_maturity_days (docs/metrics.md §8). Over rows of range_total_sums(),
    after range_total_metrics(). -#}
{% macro range_total_denominators() -%}
    {%- set metrics = ad_precompute.range_total_metric_names() -%}
    {%- for denominator in ad_precompute.range_denominators() if denominator.name not in metrics %}
    {{ denominator.part }} as {{ denominator.name }},
    {%- endfor %}
    {%- for rate in ad_precompute.range_provisional_rates() %}
    case when 2 * maturing_{{ rate.denominator }} > {{ rate.part }} then 1 else 0 end
        as {{ rate.name }}_provisional{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The columns range_total_denominators() returns, in order. -#}
{% macro range_total_denominator_names() -%}
    {%- set metrics = ad_precompute.range_total_metric_names() -%}
    {%- set names = [] -%}
    {%- for denominator in ad_precompute.range_denominators() if denominator.name not in metrics -%}
        {%- do names.append(denominator.name) -%}
    {%- endfor -%}
    {%- for rate in ad_precompute.range_provisional_rates() -%}
        {%- do names.append(rate.name ~ '_provisional') -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro range_total_sort_value(sort_parameter) -%}
    case {{ sort_parameter }}
        {%- for name in ad_precompute.range_total_metric_names() + ad_precompute.cohort_table_columns() %}
        when '{{ name }}' then cast({{ name }} as {{ ad_precompute.type_double() }})
        {%- endfor %}
    end
{%- endmacro %}

{#- One row's parts as range_total_sums names them, 0 where the row is missing (a
    left join's zero-filled day): the sums of a group of at most one row. -#}
{% macro range_total_values() -%}
    {%- for name in ad_precompute.range_total_parts() %}
    coalesce({{ name }}, 0) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Each day of CTE `days` (series_date), zero-filled: the range_total_metrics of that
    day's `rows` (per entity of CTE `entities`, when given). one_row_per_day: `rows`
    holds at most one row per (entity and) day, so a day's row is its sum and no
    aggregate runs (range_total_values). -#}
{% macro daily_range_totals(rows, flavour='duckdb', entities=none, one_row_per_day=false) -%}
{%- set entity_id = 'entities.entity_id,\n        ' if entities else '' -%}
daily_sums as (

    select
        {{ entity_id }}days.series_date,
        {{ ad_precompute.range_total_values() if one_row_per_day else ad_precompute.range_total_sums(flavour) }}
    {%- if entities %}
    from {{ entities }}
    cross join days
    left join {{ rows }}
        on
            {{ entities }}.entity_id = {{ rows }}.entity_id
            and days.series_date = {{ rows }}.date
    {%- if not one_row_per_day %}
    group by {{ entities }}.entity_id, days.series_date
    {%- endif %}
    {%- else %}
    from days
    left join {{ rows }}
        on days.series_date = {{ rows }}.date
    {%- if not one_row_per_day %}
    group by days.series_date
    {%- endif %}
    {%- endif %}

),

daily as (

    select
        {{ 'entity_id,' if entities }}
        -- named like the marts' column
        series_date as date,  -- noqa: RF04
        {{ ad_precompute.range_total_metrics(flavour) }}
    from daily_sums

)

select * from daily
order by {{ 'entity_id, ' if entities }}date
{%- endmacro %}


{% macro range_total_param(position, type, flavour='duckdb') -%}
{#- A bound parameter: DuckDB casts it to its type, SQLite binds it as it is. -#}
{%- if flavour == 'sqlite' -%}${{ position }}{%- else -%}cast(${{ position }} as {{ type }}){%- endif -%}
{%- endmacro %}


{% macro entity_table_page(flavour='duckdb', summed=false) -%}
{%- set sort = ad_precompute.range_total_param(5, 'varchar', flavour) -%}
{%- set order = ad_precompute.range_total_param(6, 'varchar', flavour) -%}
{%- set page_limit = ad_precompute.range_total_param(7, 'bigint', flavour) -%}
{%- set page_offset = ad_precompute.range_total_param(8, 'bigint', flavour) -%}
{%- if not summed %}
entity_sums as (

    select
        entity_type,
        entity_id,
        {{ ad_precompute.range_total_sums(flavour) }}
    from range_rows
    group by entity_type, entity_id

),
{%- endif %}

entity_totals as (

    select
        entity_type,
        entity_id,
        {{ ad_precompute.range_total_metrics(flavour) }},
        {{ ad_precompute.range_total_denominators() }}
    from entity_sums

),

{{ ad_precompute.cohort_curve_totals('curve_sums' if summed else 'curve_rows', flavour, summed=summed) }},

{{ ad_precompute.cohort_table_totals() }},

entity_rows as (

    select
        entity_totals.*,
        {%- for name in ad_precompute.cohort_table_columns() %}
        entity_curves.{{ name }},
        {%- endfor %}
        entities.entity_name,
        entities.parent_id
    from entities
    inner join entity_totals
        on
            entities.entity_type = entity_totals.entity_type
            and entities.entity_id = entity_totals.entity_id
    left join entity_curves
        on
            entities.entity_type = entity_curves.entity_type
            and entities.entity_id = entity_curves.entity_id

),

sort_keys as (

    select
        *,
        {{ ad_precompute.range_total_sort_value(sort) }} as sort_value,
        case {{ sort }}
            when 'name' then entity_name
            when 'entity_id' then entity_id
        end as sort_text
    from entity_rows

),

ranked as (

    select
        *,
        row_number() over (
            order by
                case when {{ order }} = 'asc' then sort_value end asc nulls last,
                case when {{ order }} = 'desc' then sort_value end desc nulls last,
                case when {{ order }} = 'asc' then sort_text end asc nulls last,
                case when {{ order }} = 'desc' then sort_text end desc nulls last,
                entity_id asc
        ) as row_position
    from sort_keys

),

page as (

    select
        entity_type,
        entity_id,
        {{ (ad_precompute.range_total_metric_names() + ad_precompute.range_total_denominator_names()
            + ad_precompute.cohort_table_columns()) | join(',\n        ') }},
        entity_name,
        parent_id,
        row_position
    from ranked
    where
        row_position > {{ page_offset }}
        and row_position <= {{ page_offset }} + {{ page_limit }}

),

counted as (

    select count(*) as total_rows
    from entity_rows

),

final as (

    select
        page.*,
        counted.total_rows
    from counted
    left join page on true

)

select * from final
order by row_position
{%- endmacro %}


{#- The change of every range metric from the `previous` row to the `current` row (two
    relations of range_total_metrics columns): (current - previous) / |previous|, on doubles
    (the same double in DuckDB and SQLite); NULL when the previous value is 0. -#}
{% macro range_total_changes(current, previous) -%}
    {%- for name in ad_precompute.range_total_metric_names() %}
    case
        when {{ previous }}.{{ name }} = 0 then null
        else
            (cast({{ current }}.{{ name }} as {{ ad_precompute.type_double() }})
                - cast({{ previous }}.{{ name }} as {{ ad_precompute.type_double() }}))
            / abs(cast({{ previous }}.{{ name }} as {{ ad_precompute.type_double() }}))
    end as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}


{% macro level_range_totals(flavour='duckdb') -%}
{%- set names = ad_precompute.range_total_metric_names() + ad_precompute.range_total_denominator_names() -%}
period_sums as (

    select
        periods.period,
        {{ ad_precompute.range_total_sums(flavour) }}
    from periods
    left join level_rows
        on level_rows.date between periods.first_day and periods.last_day
    group by periods.period

),

period_totals as (

    select
        period,
        {{ ad_precompute.range_total_metrics(flavour) }},
        {{ ad_precompute.range_total_denominators() }}
    from period_sums

),

changes as (

    select
        'change' as period,
        {{ ad_precompute.range_total_changes('current_totals', 'previous_totals') }}
    from period_totals as current_totals
    inner join period_totals as previous_totals
        on
            current_totals.period = 'current'
            and previous_totals.period = 'previous'

),

final as (

    select
        period,
        {{ names | join(',\n        ') }}
    from period_totals
    union all
    select
        period,
        {%- for name in names %}
        {{ name if name in ad_precompute.range_total_metric_names() else 'null' }} as {{ name }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from changes

)

select * from final
order by case period when 'current' then 1 when 'previous' then 2 else 3 end
{%- endmacro %}


{#- One entity's range totals: the whole query after `with`, over the range_parts
    relation `parts`, with the parameters $1 entity_type, $2 entity_id, $3 start_day,
    $4 end_day; with `denominators`, the rates' denominators and provisional flags too. -#}
{% macro entity_range_totals(parts, flavour='duckdb', denominators=false) -%}
range_rows as (

    select *
    from {{ parts }}
    where
        entity_type = {{ ad_precompute.range_total_param(1, 'varchar', flavour) }}
        and entity_id = {{ ad_precompute.range_total_param(2, 'varchar', flavour) }}
        and date between {{ ad_precompute.range_total_param(3, 'date', flavour) }}
        and {{ ad_precompute.range_total_param(4, 'date', flavour) }}

),

summed as (

    select
        {{ ad_precompute.range_total_sums(flavour) }}
    from range_rows

),

totals as (

    select
        {{ ad_precompute.range_total_metrics(flavour) }}
        {%- if denominators %},
        {{ ad_precompute.range_total_denominators() }}
        {%- endif %}
    from summed

)

select * from totals
{%- endmacro %}
