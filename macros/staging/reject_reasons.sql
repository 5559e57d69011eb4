{% macro distinct_id_reject_reason(distinct_id) -%}
    case
        when {{ distinct_id }} is null then 'null_distinct_id'
        when {{ distinct_id }} = '' then 'empty_distinct_id'
        when {{ distinct_id }} like '%,%' then 'comma_in_distinct_id'
    end
{%- endmacro %}
{% macro meta_row_reject_reason() -%}
    case
        when ad_id is null or ad_id = '' or report_date is null then 'null_key'
        when not {{ is_finite('spend_usd') }} then 'non_finite_measure'
        when
            spend_usd < 0 or impressions < 0 or clicks < 0
            or meta_trials < 0 or meta_purchases < 0
            then 'negative_measure'
    end
{%- endmacro %}
