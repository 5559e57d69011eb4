-- The dbt-compiled analyses stored in the release by `precompute run` (name, sql):
-- the queries the read API runs (python_hooks/serve.py).
select
    name,
    sql
from precompute_queries
order by name
