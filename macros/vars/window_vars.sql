{% macro window_date_var(name) -%}
    {%- set value = var(name) -%}
    {%- if value is none or value | string | trim == '' -%}{{ return(none) }}{%- endif -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a date YYYY-MM-DD, got '" ~ text ~ "'") }}
    {%- endif -%}
    {%- if execute -%}
        {%- set start = var('start_date') -%}
        {%- set as_of = var('as_of_date') -%}
        {%- if start and as_of and (start | string) > (as_of | string) -%}
            {{ exceptions.raise_compiler_error("var start_date (" ~ start ~ ") is after as_of_date (" ~ as_of ~ ")") }}
        {%- endif -%}
    {%- endif -%}
    {{ return("cast('" ~ text ~ "' as date)") }}
{%- endmacro %}

{% macro trial_days() -%}
    {{ return(ad_precompute.day_count_var('trial_days')) }}
{%- endmacro %}

{% macro refund_maturity_days() -%}
    {{ return(ad_precompute.day_count_var('refund_maturity_days')) }}
{%- endmacro %}

{% macro day_count_var(name) -%}
    {%- set value = var(name) | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]+', value) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a non-negative integer, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}
