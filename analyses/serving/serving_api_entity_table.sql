-- The serving copy's (SQLite) api_entity_table: one row per entity of a level,
-- with every metric's range total (range_totals, flavour sqlite), sorted and
-- paginated, as api_entity_table returns it.
-- Parameters (prepared statement): $1 entity_type, $2 start_day, $3 end_day, $4 parent_id, $5 sort, $6 sort_order, $7 page_limit, $8 page_offset

with

entities as (

    select
        entity_type,
        entity_id,
        entity_name,
        parent_id
    from {{ serving_table('entity_names') }}
    where
        entity_type = $1
        and ($4 is null or parent_id = $4)

),

range_rows as (

    select parts.*
    from entities
    inner join {{ serving_table('entity_daily_range_parts') }} as parts
        on
            entities.entity_type = parts.entity_type
            and entities.entity_id = parts.entity_id
    where parts.date between $2 and $3

),

entity_sums as (

    select
        entity_type,
        entity_id,
        {{ range_total_sums('sqlite') }}
    from range_rows
    group by entity_type, entity_id

),

entity_totals as (

    select
        entity_type,
        entity_id,
        {{ range_total_metrics('sqlite') }}
    from entity_sums

),

entity_rows as (

    select
        entity_totals.*,
        entities.entity_name,
        entities.parent_id
    from entities
    inner join entity_totals
        on
            entities.entity_type = entity_totals.entity_type
            and entities.entity_id = entity_totals.entity_id

),

sort_keys as (

    select
        *,
        {{ range_total_sort_value('$5') }} as sort_value,
        case $5
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
                case when cast($6 as varchar) = 'asc' then sort_value end asc nulls last,
                case when cast($6 as varchar) = 'desc' then sort_value end desc nulls last,
                case when cast($6 as varchar) = 'asc' then sort_text end asc nulls last,
                case when cast($6 as varchar) = 'desc' then sort_text end desc nulls last,
                entity_id asc
        ) as row_position
    from sort_keys

),

page as (

    select
        entity_type,
        entity_id,
        {{ range_total_metric_names() | join(',\n        ') }},
        entity_name,
        parent_id,
        row_position
    from ranked
    where
        row_position > $8
        and row_position <= $8 + $7

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
