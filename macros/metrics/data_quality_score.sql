{#-
    data_quality_score, 0.00–1.00 (metric-contract §5; documented in
    docs/decisions.md and models/marts/_marts__docs.md). Deterministic:

        1.00
      - 0.40 × share of the row's cohort pairs (trial ∪ purchase, distinct
               user × product) that have no user_product_metrics row
      - 0.20   when the row has unmapped-country input: a Meta country label
               missing from breakdown_mapping_country, or a cohort user with no
               country (for a breakdown row: country_code = 'ZZ')
      - 0.20   when the entity is missing from id_hierarchy_mapping
      - 0.10   when Meta reports trials but Mixpanel has no trial users, or the reverse
      - 0.10   the same for purchases
    floored at 0, rounded to 2 decimals when stored.
-#}
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
