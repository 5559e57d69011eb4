-- Assert the country mapping covers all 249 ISO-3166-1 alpha-2 codes, each
-- also mapped from the code itself (`US` -> `US`), and nothing but 2-letter
-- upper-case codes (docs/metrics.md §1). Fails with one row per problem.

with

country_mapping as (

    select * from {{ ref('breakdown_mapping_country') }}

),

codes as (

    select distinct country_code
    from country_mapping

),

problems as (

    select 'expected 249 distinct codes, found ' || cast(count(*) as {{ dbt.type_string() }}) as problem
    from codes
    having count(*) <> 249

    union all

    select 'code not mapped from itself: ' || codes.country_code as problem
    from codes
    left join country_mapping
        on
            codes.country_code = country_mapping.meta_country
            and codes.country_code = country_mapping.country_code
    where country_mapping.meta_country is null

    union all

    select 'not a 2-letter upper-case code: ' || coalesce(country_code, 'NULL') as problem
    from codes
    where country_code is null or length(country_code) <> 2 or upper(country_code) <> country_code

)

select * from problems
