-- The serving copy's (SQLite) api_entity_user_list, the overall lists (a
-- country's lists are read from the release file): one user list of one
-- entity-day, paginated, ids ascending, as api_entity_user_list returns it.
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 day, $4 list, $5 page_limit, $6 page_offset
-- Returns one row per id of the page, each with `total_rows` (the list's
-- length); an empty page is one row with a NULL distinct_id.

with recursive

chosen_list as (

    select
        case $4
            when 'trial' then trial_user_ids
            when 'post_trial' then post_trial_user_ids
            when 'converted' then converted_user_ids
            when 'trial_refund' then trial_refund_user_ids
            when 'purchase' then purchase_user_ids
            when 'purchase_refund' then purchase_refund_user_ids
        end as user_ids
    from {{ serving_table('entity_daily_metrics') }}
    where
        entity_type = $1
        and entity_id = $2
        and date = $3

),

counted as (

    select coalesce(sum({{ list_length('user_ids') }}), 0) as total_rows
    from chosen_list

),

-- the list split at its commas, one id per row (SQLite has no string_split)
list_ids (distinct_id, rest) as (

    select
        null as distinct_id,
        user_ids || ',' as rest
    from chosen_list
    where user_ids is not null

    union all

    select
        substr(rest, 1, instr(rest, ',') - 1) as distinct_id,
        substr(rest, instr(rest, ',') + 1) as rest
    from list_ids
    where rest != ''

),

page as (

    select distinct_id
    from list_ids
    where rest is not null and distinct_id is not null
    order by distinct_id
    limit
        $5
        offset $6

),

final as (

    select
        counted.total_rows,
        page.distinct_id
    from counted
    left join page on true

)

select * from final
order by distinct_id
