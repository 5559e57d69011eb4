-- Every source row of mixpanel_user, cast and renamed, with the reason it is
-- rejected (NULL when kept). Empty abi ids read as NULL, a NULL
-- has_abi_attribution as FALSE (the sources YAML); stg_ adds the country code.
{%- set columns = staged_columns('mixpanel', 'mixpanel_user') %}

with

source as (

    select * from {{ source('mixpanel', 'mixpanel_user') }}

),

renamed as (

    select {{ stage_source_columns('mixpanel', 'mixpanel_user') }}
    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by {{ columns | join(',\n                ') }}
            order by distinct_id
        ) as copy_number
    from renamed

),

flagged as (

    select
        {{ columns | join(',\n        ') }},
        coalesce(
            {{ distinct_id_reject_reason('distinct_id') }},
            case when copy_number > 1 then 'exact_duplicate' end
        ) as reject_reason
    from numbered

)

select * from flagged
