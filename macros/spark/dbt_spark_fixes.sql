{#-
    Two fixes to dbt-spark 1.11, for this project's Spark target (issue 12).
    dbt looks up an adapter's macros in the root project first, so these
    replace dbt-spark's own versions; they change nothing on other engines.
-#}

{#- `cast(x as varchar)`: dbt-spark passes `varchar` through, and Spark 3+
    rejects a VARCHAR without a length. The marts' YAML declares their text
    columns `varchar` (the spec's type; DuckDB's name), and dbt's contract check
    casts NULL to each declared type, so on Spark `varchar` is its `string`. -#}
{% macro spark__cast(field, type) -%}
    {%- set spark_type = 'string' if type | lower | trim == 'varchar' else type -%}
    cast({{ field }} as {{ spark_type }})
{%- endmacro %}


{#- Seeds. dbt-spark binds each value into its INSERT, and with method: session
    the value is pasted between single quotes without escaping, so
    "Côte d'Ivoire" (seeds/breakdown_mapping_country.csv) breaks the statement
    (dbt-spark 1.11, session.py _fix_binding). Here every value is written as an
    escaped literal instead, with no bindings, which every method runs as is. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set batch_size = get_batch_size() -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set column_index = loop.index0 -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, column_index) -%}
                    {%- set type = column_override.get(agate_table.column_names[column_index], inferred_type) -%}
                    cast({{ ad_precompute.spark_seed_literal(value) }} as {{ type }})
                    {%- if not loop.last %},{% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor -%}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{#- A seed value as a Spark SQL literal: NULL, a number, or a quoted text with
    its backslashes and single quotes escaped. -#}
{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        {{ return('null') }}
    {%- elif value is number -%}
        {{ return(value | string) }}
    {%- endif -%}
    {{ return("'" ~ value | string | replace('\\', '\\\\') | replace("'", "\\'") ~ "'") }}
{%- endmacro %}
