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


{% macro spark_parquet_relation(path) -%}
    {{ return("parquet.`" ~ path | replace("`", "``") ~ "`") }}
{%- endmacro %}


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
