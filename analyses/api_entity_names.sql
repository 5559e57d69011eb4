-- Read API: every entity of the published release, with its display name and
-- parent. The server reads it once per release and checks each request's
-- entity against it (an unknown entity is the API's 404).
-- Parameters (prepared statement): none

select
    entity_type,
    entity_id,
    entity_name,
    parent_id
from {{ ref('entity_names') }}
order by entity_type, entity_id
