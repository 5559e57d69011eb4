-- Read API: one entity of the published release, with its display name and
-- parent; no row for an unknown entity (the API's 404).
-- Parameters (prepared statement): $1 entity_type, $2 entity_id

select
    entity_type,
    entity_id,
    entity_name,
    parent_id
from {{ ref('entity_names') }}
where
    entity_type = cast($1 as varchar)
    and entity_id = cast($2 as varchar)
