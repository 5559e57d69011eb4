{#-
    Failing rows: rows where some id of the list `column_name` is not in the
    list `superset_column` of the same row (docs/metrics.md §4, "the lists
    nest"), e.g. converted_user_ids ⊆ post_trial_user_ids.

    Arguments:
      column_name       the subset list (the test is attached to it)
      superset_column   the list that must contain it
-#}
{% test list_is_subset(model, column_name, superset_column) %}

{{ adapter.dispatch('list_is_subset_failures', 'ad_precompute')(model, column_name, superset_column) }}

{% endtest %}
