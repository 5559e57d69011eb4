-- Read API /api/entities/{level}/{entity_id}: the entity's day rows over a
-- range (the spec's single entity-day query, for every day), in date order,
-- every stored metric except the user lists (served by .../users).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id, $3 start_day, $4 end_day

-- every stored metric column, by design
select
    * exclude (  -- noqa: AM04
        entity_type,
        entity_id,
        trial_user_ids,
        post_trial_user_ids,
        converted_user_ids,
        trial_refund_user_ids,
        purchase_user_ids,
        purchase_refund_user_ids
    )
from {{ ref('entity_daily_metrics') }}
where
    entity_type = cast($1 as varchar)
    and entity_id = cast($2 as varchar)
    and date between cast($3 as date) and cast($4 as date)
order by date
