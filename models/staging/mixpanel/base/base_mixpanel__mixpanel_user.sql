-- Every source row of mixpanel_user, cast and renamed, with the reason it is
-- rejected (NULL when kept): an unusable distinct_id, or an exact copy. Empty
-- abi ids read as NULL, a NULL has_abi_attribution as FALSE (the sources YAML);
-- stg_ adds the country code.

with

{{ flag_source_rows(
    'mixpanel', 'mixpanel_user', distinct_id_reject_reason('distinct_id'), copy_order_by='distinct_id'
) }}

select * from flagged
