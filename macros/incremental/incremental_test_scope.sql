{#- Data tests in an incremental run: only the touched entity-days of the tables it
    refreshed by delete+insert (docs/decisions.md D88).

    A test opts in with the placeholder `where: __incremental_scope__` (dbt's
    documented way to give a test a `where` built by a macro: the placeholder is
    replaced in `get_where_subquery`, which dbt wraps around the tested relation).
    The placeholder becomes a filter on the touched keys only when both hold:
      * the scope is active (var incremental_scope_dir: `precompute run --incremental`);
      * the tested relation is one of the models materialized `incremental` in this
        run (the marts and range parts): outside the touched keys its rows are the
        previous release's, which passed the same test.
    Otherwise (every full build, every engine, any other relation) the test reads
    the whole relation, exactly as without the placeholder. Any other `where`, or
    none, goes to dbt's own implementation (`default__get_where_subquery`, or an
    adapter's). -#}

{% macro get_where_subquery(relation) -%}
    {%- if config.get('where', '') == '__incremental_scope__' -%}
        {%- do return(incremental_test_scope(relation)) -%}
    {%- endif -%}
    {%- do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) -%}
{%- endmacro %}


{#- The relation a scoped test reads: `relation` itself, or its touched entity-days
    (see above). A test that compares its model with a second relation on the
    same key (breakdown_sums_to_overall) scopes both alike, or the untouched keys
    of one would look missing in the other.
    The subquery has no alias, so that a test may give it one (`as child`); DuckDB,
    the only engine of the incremental path, needs none. -#}
{% macro incremental_test_scope(relation) -%}
    {%- if not execute or not incremental_scope_active()
        or config.get('where', '') != '__incremental_scope__' -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set keyed = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
        {%- do keyed.append(node.alias) -%}
    {%- endfor -%}
    {%- if relation.identifier not in keyed -%}
        {%- do return(relation) -%}
    {%- endif -%}
    {%- set touched_keys = relation.incorporate(path={'identifier': 'int_incremental_keys_touched'}) -%}
    {%- set scoped -%}
        (
            select * from {{ relation }}
            where (entity_type, entity_id, date) in (
                select entity_type, entity_id, report_date from {{ touched_keys }}
            )
        )
    {%- endset -%}
    {%- do return(scoped) -%}
{%- endmacro %}
