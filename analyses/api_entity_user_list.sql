-- Read API /api/entities/{level}/{entity_id}/users: one user list of one
-- entity-day (overall, or one country of the breakdown), paginated. The list
-- is stored sorted ascending, so the ids come back in that order.
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 day, $4 list, $5 country, $6 page_limit, $7 page_offset
-- ($4 'trial', 'post_trial', 'converted', 'trial_refund', 'purchase' or
-- 'purchase_refund'; $5 NULL: the overall row.)
-- Returns one row per id of the page, each with `total_rows` (the list's
-- length); an empty page is one row with a NULL distinct_id.

with

overall_row as (

    select *
    from {{ ref('entity_daily_metrics') }}
    where
        cast($5 as varchar) is null
        and entity_type = cast($1 as varchar)
        and entity_id = cast($2 as varchar)
        and date = cast($3 as date)

),

country_row as (

    select * exclude (country_code)
    from {{ ref('entity_country_breakdown') }}
    where
        country_code = cast($5 as varchar)
        and entity_type = cast($1 as varchar)
        and entity_id = cast($2 as varchar)
        and date = cast($3 as date)

),

entity_row as (

    select * from overall_row
    union all by name
    select * from country_row

),

chosen_list as (

    select
        case cast($4 as varchar)
            when 'trial' then trial_user_ids
            when 'post_trial' then post_trial_user_ids
            when 'converted' then converted_user_ids
            when 'trial_refund' then trial_refund_user_ids
            when 'purchase' then purchase_user_ids
            when 'purchase_refund' then purchase_refund_user_ids
        end as user_ids
    from entity_row

),

counted as (

    select coalesce(sum({{ list_length('user_ids') }}), 0) as total_rows
    from chosen_list

),

list_ids as (

    select unnest(string_split(user_ids, ',')) as distinct_id
    from chosen_list
    where user_ids is not null

),

page as (

    select distinct_id
    from list_ids
    order by distinct_id
    limit
        cast($6 as bigint)
        offset cast($7 as bigint)

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
