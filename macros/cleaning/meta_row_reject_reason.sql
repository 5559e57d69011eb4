{#- Why a Meta performance row cannot be used (metric-contract §2), or NULL
    when it can: a NULL key, a non-finite spend (NaN, ±Infinity; the four
    counts are BIGINT, always finite), any negative measure, or an exact copy
    of an earlier row (`copy_number` > 1 over all columns). A NULL measure is
    kept: it sums as nothing, i.e. counts as 0. Shared by both Meta tables. -#}
{% macro meta_row_reject_reason(copy_number='copy_number') -%}
    case
        when ad_id is null or ad_id = '' or report_date is null then 'null_key'
        when not {{ is_finite('spend_usd') }} then 'non_finite_measure'
        when
            spend_usd < 0 or impressions < 0 or clicks < 0
            or meta_trials < 0 or meta_purchases < 0
            then 'negative_measure'
        when {{ copy_number }} > 1 then 'exact_duplicate'
    end
{%- endmacro %}
