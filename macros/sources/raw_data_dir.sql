{#- The source directory of this run: var raw_data_dir, else env RAW_DATA_DIR,
    else the bundled sample (the same chain as the sources' external_location). -#}
{% macro raw_data_dir() -%}
    {{ return(var('raw_data_dir') or env_var('RAW_DATA_DIR', 'data/sample')) }}
{%- endmacro %}
