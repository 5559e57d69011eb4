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

{% macro cohort_horizons() -%}
    {#- the var cohort_horizons (docs/metrics.md §9) as a sorted list of distinct
        non-negative integers; a list given as text on the command line
        ('[0, 7, 30]' or '0,7,30') is read too -#}
    {%- set value = var('cohort_horizons') -%}
    {%- if value is string -%}
        {%- set items = (value | replace('[', '') | replace(']', '')).split(',') -%}
    {%- elif value is iterable and value is not mapping -%}
        {%- set items = value -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("var cohort_horizons must be a list of non-negative integers, got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- set horizons = [] -%}
    {%- for item in items -%}
        {%- set text = item | string | trim -%}
        {%- if item is sameas true or item is sameas false or not modules.re.fullmatch('[0-9]+', text) -%}
            {{ exceptions.raise_compiler_error("var cohort_horizons must be a list of non-negative integers, got '" ~ value ~ "'") }}
        {%- endif -%}
        {%- if text | int not in horizons -%}{%- do horizons.append(text | int) -%}{%- endif -%}
    {%- endfor -%}
    {%- if not horizons -%}
        {{ exceptions.raise_compiler_error("var cohort_horizons must list at least one horizon, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(horizons | sort) }}
{%- endmacro %}

{% macro select_cohort_horizons() -%}
    {#- one row per horizon of the var cohort_horizons, in a column days_since_cohort -#}
    {%- for horizon in ad_precompute.cohort_horizons() %}
    select {{ horizon }} as days_since_cohort
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
