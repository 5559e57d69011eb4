-- Read API /api/entities: one row per entity of a level, with every metric's
-- range total (docs/metrics.md §8, range_totals), sorted and paginated.
-- Parameters (prepared statement): $1 entity_type, $2 start_day, $3 end_day, $4 parent_id, $5 sort, $6 sort_order, $7 page_limit, $8 page_offset
-- ($4 NULL: every entity of the level; $5 'name', 'entity_id' or a metric of
-- range_total_metric_names; $6 'asc' or 'desc'.)
-- Returns the page's rows in order, each with `total_rows` (entities that match
-- before pagination); a page past the end is one row with only total_rows set.

with

entities as (

    select *
    from {{ ref('entity_names') }}
    where
        entity_type = cast($1 as varchar)
        and (cast($4 as varchar) is null or parent_id = cast($4 as varchar))

),

range_rows as (

    select *
    from {{ ref('entity_daily_range_parts') }}
    where
        entity_type = cast($1 as varchar)
        and date between cast($2 as date) and cast($3 as date)

),

entity_sums as (

    select
        entity_type,
        entity_id,
        {{ range_total_sums() }}
    from range_rows
    group by entity_type, entity_id

),

entity_totals as (

    select
        entity_type,
        entity_id,
        {{ range_total_metrics() }}
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
        {{ range_total_sort_value('cast($5 as varchar)') }} as sort_value,
        case cast($5 as varchar)
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

    select * exclude (sort_value, sort_text)
    from ranked
    where
        row_position > cast($8 as bigint)
        and row_position <= cast($8 as bigint) + cast($7 as bigint)

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
