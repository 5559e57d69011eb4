{#- The incremental refresh's scope layer (issue 11; docs/decisions.md D76-D85).

    `precompute run --incremental` writes the changes it found since the last
    release as Parquet files into one directory and passes it as the var
    `incremental_scope_dir`. With the var unset (every full build, every engine)
    these macros render nothing and the project builds as before. -#}

{% macro incremental_scope_active() -%}
    {{ return(var('incremental_scope_dir', none) is not none) }}
{%- endmacro %}


{% macro incremental_scope_file(name) -%}
    {{ return(adapter.dispatch('incremental_scope_file', 'ad_precompute')(name)) }}
{%- endmacro %}

{#- Raised only when a scope model is compiled to run (`execute`): dbt parses every
    model, the disabled scope models too, on every engine. -#}
{% macro default__incremental_scope_file(name) -%}
    {%- if execute -%}
        {{ exceptions.raise_compiler_error(
            "var incremental_scope_dir is set, but the incremental refresh runs on DuckDB only "
            ~ "(target type " ~ target.type ~ "); build in full without the var"
        ) }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__incremental_scope_file(name) -%}
    read_parquet('{{ var("incremental_scope_dir") }}/{{ name }}.parquet')
{%- endmacro %}


{#- A WHERE clause that keeps the rows inside the scope, or nothing in a full build.
    kind 'users': columns = [distinct_id expression]: users whose cohorts are recomputed.
    kind 'keys':  columns = [entity_type, entity_id, date expressions]: the touched entity-days.
    For 'keys' each column must be qualified (`rows.entity_id`): inside the EXISTS an
    unqualified `entity_id` would be the scope model's own column, and the filter would
    keep every row. -#}
{% macro incremental_scope_filter(kind, columns) -%}
    {%- if incremental_scope_active() -%}
        {%- for column in columns if kind == 'keys' and '.' not in column -%}
            {{ exceptions.raise_compiler_error("incremental_scope_filter: qualify the column '" ~ column ~ "' with its table (rows." ~ column ~ ")") }}
        {%- endfor -%}
        {%- if kind == 'users' -%}
            where {{ columns[0] }} in (select distinct_id from {{ ref('int_incremental_users_scoped') }})
        {%- elif kind == 'keys' -%}
            where exists (
                select 1 from {{ ref('int_incremental_keys_touched') }} as touched_keys
                where
                    touched_keys.entity_type = {{ columns[0] }}
                    and touched_keys.entity_id = {{ columns[1] }}
                    and touched_keys.report_date = {{ columns[2] }}
            )
        {%- else -%}
            {{ exceptions.raise_compiler_error("incremental_scope_filter: kind must be 'users' or 'keys', got '" ~ kind ~ "'") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The pre-hook of the published tables keyed on (entity_type, entity_id, date)
    (dbt_project.yml, marts): in an incremental run, before delete+insert, delete
    every touched key. A key whose rows all vanished (an entity that no longer
    exists, an entity-day left without any country row) has nothing to insert,
    so delete+insert alone would keep its old rows. -#}
{% macro delete_incremental_scope_rows(relation) -%}
    {%- if is_incremental() -%}
        {#- by name, not ref(): a hook cannot add a dependency; the model already runs
            after int_incremental_keys_touched (its inputs are filtered by it) -#}
        {%- set touched_keys = relation.incorporate(path={'identifier': 'int_incremental_keys_touched'}) -%}
        delete from {{ relation }}
        where exists (
            select 1 from {{ touched_keys }} as touched_keys
            where
                touched_keys.entity_type = {{ relation }}.entity_type
                and touched_keys.entity_id = {{ relation }}.entity_id
                and touched_keys.report_date = {{ relation }}.date
        )
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
