{% macro staged_source_tables() -%}
    {{ return([
        ('meta_ads', 'ad_performance_daily'),
        ('meta_ads', 'ad_performance_daily_country'),
        ('meta_ads', 'id_hierarchy_mapping'),
        ('mixpanel', 'mixpanel_user'),
        ('mixpanel', 'mixpanel_event'),
        ('mixpanel', 'user_product_metrics'),
        ('meta_ads', 'id_name_mapping'),
    ]) }}
{%- endmacro %}


{% macro source_column_nodes(source_name, table_name) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
    {{ return(node.columns.values() | list) }}
{%- endmacro %}


{% macro staged_column_meta(column) -%}
    {{ return(column.config.meta if column.config and column.config.meta else column.meta) }}
{%- endmacro %}


{% macro staged_columns(source_name, table_name) -%}
    {%- set names = [] -%}
    {%- for column in ad_precompute.source_column_nodes(source_name, table_name) -%}
        {%- do names.append(ad_precompute.staged_column_meta(column).get('staged_as', column.name)) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{% macro stage_source_columns(source_name, table_name) -%}
    {%- for column in ad_precompute.source_column_nodes(source_name, table_name) -%}
        {%- set meta = ad_precompute.staged_column_meta(column) -%}
        {%- set value = 'cast(' ~ column.name ~ ' as ' ~ ad_precompute.contract_type_sql(column.data_type) ~ ')' -%}
        {%- if meta.get('empty_as_null') -%}{%- set value = 'nullif(' ~ value ~ ", '')" -%}{%- endif -%}
        {%- if meta.get('null_as') is not none -%}{%- set value = 'coalesce(' ~ value ~ ', ' ~ meta.null_as ~ ')' -%}{%- endif %}
        {{ value }} as {{ meta.get('staged_as', column.name) }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
