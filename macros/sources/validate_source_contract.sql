{#-
    Checks the source contract (metric-contract §1) before any model runs:
    every declared source table must exist and carry every declared column.
    Fails the run with one message that names each missing file / table and
    each missing column. Extra columns are allowed.

    Called from `on-run-start` in dbt_project.yml, for run / build / test.
-#}
{% macro validate_source_contract() %}
    {%- if execute and flags.WHICH in ['run', 'build', 'test'] -%}
        {%- set problems = [] -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- set expected = node.columns.keys() | list -%}
            {%- set found = adapter.dispatch('source_columns', 'ad_precompute')(node) -%}
            {%- if found is none -%}
                {%- do problems.append(
                    "source " ~ node.source_name ~ "." ~ node.name ~ ": not found at "
                    ~ adapter.dispatch('source_location', 'ad_precompute')(node)
                ) -%}
            {%- else -%}
                {%- set found_lower = found | map('lower') | list -%}
                {%- for column in expected if column | lower not in found_lower -%}
                    {%- do problems.append(
                        "source " ~ node.source_name ~ "." ~ node.name ~ " ("
                        ~ adapter.dispatch('source_location', 'ad_precompute')(node)
                        ~ "): missing column '" ~ column ~ "'"
                    ) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error(
                "Source contract violated (metric-contract §1):\n  - "
                ~ problems | join("\n  - ")
                ~ "\nSet the source directory with --vars '{raw_data_dir: <dir>}' or env var RAW_DATA_DIR."
            ) }}
        {%- endif -%}
    {%- endif -%}
    select 1
{% endmacro %}


{#- Where a source lives, for error messages. -#}
{% macro default__source_location(node) -%}
    {{ return(node.database ~ "." ~ node.schema ~ "." ~ node.identifier) }}
{%- endmacro %}

{% macro duckdb__source_location(node) -%}
    {%- set path = ad_precompute.source_file_path(node) -%}
    {{ return(path if path else default__source_location(node)) }}
{%- endmacro %}


{#- The Parquet path inside a source's `external_location`, or none. -#}
{% macro source_file_path(node) -%}
    {%- set location = node.config.get('external_location') or node.meta.get('external_location') -%}
    {%- if not location -%}{{ return(none) }}{%- endif -%}
    {%- set location = location | replace('{name}', node.name) | replace('{identifier}', node.identifier) -%}
    {%- set match = modules.re.search("'([^']+)'", location) -%}
    {{ return(match.group(1) if match else location) }}
{%- endmacro %}


{#- The column names a source has, or none when it does not exist. -#}
{% macro default__source_columns(node) -%}
    {%- set relation = adapter.get_relation(node.database, node.schema, node.identifier) -%}
    {%- if relation is none -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name') | list) }}
{%- endmacro %}

{% macro duckdb__source_columns(node) -%}
    {%- set path = ad_precompute.source_file_path(node) -%}
    {%- if not path -%}{{ return(default__source_columns(node)) }}{%- endif -%}
    {%- set escaped = path | replace("'", "''") -%}
    {%- set files = run_query("select count(*) from glob('" ~ escaped ~ "')") -%}
    {%- if files.columns[0].values()[0] == 0 -%}{{ return(none) }}{%- endif -%}
    {%- set described = run_query("describe select * from read_parquet('" ~ escaped ~ "')") -%}
    {{ return(described.columns[0].values() | list) }}
{%- endmacro %}
