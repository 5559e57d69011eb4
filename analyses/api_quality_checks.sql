-- Read API: the data-quality checks of the published release (GET /api/quality),
-- warnings first, then by check and subject
-- (the API names check_name `name` and offending_count `count`).
-- Parameters (prepared statement): none

select
    check_name,
    subject,
    severity,
    status,
    offending_count,
    detail
from {{ ref('data_quality_checks') }}
order by status = 'warn' desc, check_name asc, subject asc nulls first
