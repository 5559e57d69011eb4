-- Read API: each source table of the published release with its rows and the
-- first and last day they cover (GET /api/health `sources`); NULL dates for the
-- tables without a date. The server reads it once per release.
-- Parameters (prepared statement): none

select
    source_table,
    source_system,
    row_count,
    first_date,
    last_date
from {{ ref('int_source_freshness_measured') }}
order by source_table
