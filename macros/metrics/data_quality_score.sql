{% macro data_quality_score(
    cohort_pairs, cohort_pairs_without_metrics, has_unmapped_country, is_in_hierarchy_mapping,
    meta_trials, mixpanel_trials, meta_purchases, mixpanel_purchases
) -%}
    {%- set raw_score -%}
        1.0
        - 0.4 * {{ ad_precompute.safe_divide(cohort_pairs_without_metrics, cohort_pairs) }}
        - case when {{ has_unmapped_country }} then 0.2 else 0 end
        - case when {{ is_in_hierarchy_mapping }} then 0 else 0.2 end
        - case when ({{ meta_trials }} > 0) <> ({{ mixpanel_trials }} > 0) then 0.1 else 0 end
        - case when ({{ meta_purchases }} > 0) <> ({{ mixpanel_purchases }} > 0) then 0.1 else 0 end
    {%- endset -%}
    case when {{ raw_score }} < 0 then 0 else {{ raw_score }} end
{%- endmacro %}
