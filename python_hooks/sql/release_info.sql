-- The read API's view of the release it serves (python_hooks/serve.py, /api/health).
-- precompute_release is written by python_hooks/release.py, one row per release file.
select
    run_id,
    computed_at,
    released_at,
    start_date,
    as_of_date,
    trial_days
from precompute_release
