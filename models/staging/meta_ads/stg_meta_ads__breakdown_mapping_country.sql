-- One row per row of the optional breakdown_mapping_country source file: a Meta
-- country label and the ISO code this run maps it to. No file: no rows, and
-- the seed alone maps (int_country_mapping_resolved).

with

source as (

    {{ select_from_optional_source('meta_ads', 'breakdown_mapping_country') }}

),

renamed as (

    select
        cast(meta_country as {{ dbt.type_string() }}) as meta_country,
        cast(country_code as {{ dbt.type_string() }}) as country_code
    from source

)

select * from renamed
