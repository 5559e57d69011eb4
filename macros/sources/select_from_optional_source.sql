{% macro select_from_optional_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set node = graph.sources.get('source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name) if execute else none -%}
    {%- if node is none or adapter.dispatch('source_columns', 'ad_precompute')(node) is not none -%}
    select * from {{ relation }}
    {%- else -%}
    select
        {%- for column in node.columns.values() %}
        cast(null as {{ ad_precompute.contract_type_sql(column.data_type) }}) as {{ column.name }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    where 1 = 0
    {%- endif -%}
{%- endmacro %}


{% macro contract_type_sql(contract_type) -%}
    {%- set contract = contract_type | lower | trim -%}
    {%- if contract == 'varchar' -%}{{ return(dbt.type_string()) }}
    {%- elif contract == 'bigint' -%}{{ return(dbt.type_bigint()) }}
    {%- elif contract == 'double' -%}{{ return(ad_precompute.type_double()) }}
    {%- elif contract == 'boolean' -%}{{ return(dbt.type_boolean()) }}
    {%- elif contract == 'timestamp' -%}{{ return(dbt.type_timestamp()) }}
    {%- elif contract == 'date' -%}{{ return('date') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("not a contract type: '" ~ contract_type ~ "'") }}
{%- endmacro %}
