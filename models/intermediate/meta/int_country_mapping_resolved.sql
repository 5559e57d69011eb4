-- One row per Meta country label: the ISO code this run maps it to. The run's
-- own mapping file (stg_meta_ads__breakdown_mapping_country, e.g. the legacy
-- dashboard's active meta_country_mapping rows) wins label by label; the
-- breakdown_mapping_country seed maps every other label, so the mapping still
-- covers every ISO country (docs/metrics.md §1).

with

seed_mapping as (

    select * from {{ ref('breakdown_mapping_country') }}

),

run_mapping as (

    select * from {{ ref('stg_meta_ads__breakdown_mapping_country') }}

),

seed_labels_not_overridden as (

    select
        seed_mapping.meta_country,
        seed_mapping.country_code
    from seed_mapping
    left join run_mapping
        on seed_mapping.meta_country = run_mapping.meta_country
    where run_mapping.meta_country is null

),

resolved as (

    select
        meta_country,
        country_code
    from run_mapping

    union all

    select
        meta_country,
        country_code
    from seed_labels_not_overridden

)

select * from resolved
