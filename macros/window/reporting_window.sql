{#-
    The reporting window vars (metric-contract §1, "Dates and windows"),
    checked at compile time so that a typo is a clear error, not an empty table.

      start_date   first day of the spine; null = earliest date in the sources
      as_of_date   "today" of the run, last day of the spine; null = latest date in the sources
      trial_days   trial length; a cohort of day D is post-trial when D <= as_of_date - trial_days

    Returns a SQL date literal, or none when the var is not set.
-#}
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
    {%- set value = var('trial_days') | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]+', value) -%}
        {{ exceptions.raise_compiler_error("var trial_days must be a non-negative integer, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value | int) }}
{%- endmacro %}
