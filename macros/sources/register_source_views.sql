{#-
    Sources on engines that cannot read a Parquet file by path in FROM the way
    dbt-duckdb's `external_location` does (Spark): an on-run-start hook
    (dbt_project.yml) makes each source file a view, `<schema>.<table>`, in the
    schema its sources YAML names (vars meta_ads_schema, mixpanel_schema), over
    the file the YAML's `external_location` names (<raw_data_dir>/<table>.parquet).
    A view holds no data and is made again by every run, so it always reads the
    directory of this run. A source whose file is absent (the optional
    id_name_mapping) gets no view; select_from_optional_source then reads no rows.
    The source contract check (validate_source_contract) reads the files
    themselves and runs before this hook.
-#}
{% macro register_source_views() -%}
    {{ return(adapter.dispatch('register_source_views', 'ad_precompute')()) }}
{%- endmacro %}

{% macro default__register_source_views() -%}
    select 1
{%- endmacro %}

{% macro spark__register_source_views() -%}
    {%- if execute -%}
        {%- set schemas = [] -%}
        {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
            {%- set path = ad_precompute.source_file_path(node) -%}
            {%- if path -%}
                {%- if node.schema not in schemas -%}
                    {%- do run_query("create schema if not exists " ~ node.schema) -%}
                    {%- do schemas.append(node.schema) -%}
                {%- endif -%}
                {%- set view = node.schema ~ "." ~ node.identifier -%}
                {%- if not ad_precompute.source_is_optional(node) or ad_precompute.spark_file_exists(path) -%}
                    {%- do run_query(
                        "create or replace view " ~ view
                        ~ " as select * from " ~ ad_precompute.spark_parquet_relation(path)
                    ) -%}
                {%- else -%}
                    {%- do run_query("drop view if exists " ~ view) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{#- A Parquet file as a Spark relation: parquet.`<path>` (a local path or any
    URI Spark's Hadoop file systems read: s3a://, abfss://, hdfs://). -#}
{% macro spark_parquet_relation(path) -%}
    {{ return("parquet.`" ~ path | replace("`", "``") ~ "`") }}
{%- endmacro %}


{#- True when the file exists. Spark SQL has no file-exists function, and
    parquet.`<missing path>` is an error; so the file's directory is listed with
    the binaryFile source (paths only: the content column is never read),
    through a glob of the source file names of that directory (an exact list:
    no other file is listed). It is an error only when none of them exists,
    and Spark's message then names the directory. -#}
{% macro spark_file_exists(path) -%}
    {%- set directory, _, file_name = path.rpartition('/') -%}
    {%- set siblings = [] -%}
    {%- for node in graph.sources.values() -%}
        {%- set sibling = ad_precompute.source_file_path(node) -%}
        {%- if sibling and sibling.rpartition('/')[0] == directory -%}
            {%- do siblings.append(sibling.rpartition('/')[2]) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set pattern = directory ~ "/{" ~ (siblings | unique | sort | join(',')) ~ "}" -%}
    {%- set listed = run_query(
        "select path from binaryFile.`" ~ pattern | replace("`", "``") ~ "`"
    ) -%}
    {%- for row in listed.rows -%}
        {%- if row['path'].rpartition('/')[2] == file_name -%}{{ return(true) }}{%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}
