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


{#- The staged columns of a source table: those of its base_ model as its enforced
    contract types them (the models YAML), without reject_reason. Empty while dbt parses. -#}
{% macro staged_column_names(source_name, table_name) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set node = graph.nodes['model.' ~ project_name ~ '.base_' ~ source_name ~ '__' ~ table_name] -%}
    {{ return(node.columns.keys() | reject('equalto', 'reject_reason') | list) }}
{%- endmacro %}
