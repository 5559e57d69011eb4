{#- A threshold var of the data-quality checks (models/marts/quality/), checked at
    compile time: a number >= 0 (an integer when `integer`), else a compilation error. -#}
{% macro quality_threshold(name, integer=false) -%}
    {%- set text = var(name) | string | trim -%}
    {%- set pattern = '[0-9]+' if integer else '[0-9]+(\\.[0-9]+)?' -%}
    {%- if not modules.re.fullmatch(pattern, text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a non-negative " ~ ("integer" if integer else "number") ~ ", got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(text | int if integer else text | float) }}
{%- endmacro %}
