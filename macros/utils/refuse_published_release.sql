{% macro refuse_published_release() -%}
    {{ return(adapter.dispatch('refuse_published_release', 'ad_precompute')()) }}
{%- endmacro %}

{% macro default__refuse_published_release() -%}
    select 1
{%- endmacro %}

{% macro duckdb__refuse_published_release() -%}
    {%- if execute -%}
        {%- set database_path = run_query(
            "select path from duckdb_databases() where database_name = current_database()"
        ).columns[0].values()[0] or '' -%}
        {%- if modules.re.search('[.]releases/[0-9]{8}T[0-9]+Z[^/]*/[^/]+$', database_path) -%}
            {{ exceptions.raise_compiler_error(
                "DUCKDB_PATH (" ~ target.path ~ ") is a published release (" ~ database_path ~ "): "
                ~ "dbt must not write it. Publish with `precompute run --warehouse " ~ target.path ~ "`, "
                ~ "or point DUCKDB_PATH at a file of your own."
            ) }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}
