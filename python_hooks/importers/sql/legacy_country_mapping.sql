-- The legacy dashboard's meta_country_mapping -> breakdown_mapping_country.
-- One row per legacy row. Kept: an active row (is_active true) with a label and
-- a two-letter code, the code trimmed and upper-cased; the label is kept as it
-- is (labels are matched exactly, like the seed's). Rejected, first reason wins:
--   null_key                  NULL or empty label or code
--   inactive_mapping          is_active is not true (NULL or unreadable included)
--   invalid_country_code      not two letters A-Z once trimmed and upper-cased
--   conflicting_country_code  every usable row of a label that has two different codes
--   exact_duplicate           a later usable row with the same label and code
-- Placeholders (Python str.format): staged, raw, location, record.
create or replace table {staged} as

with

legacy_rows as (

    select
        raw.meta_country_name as meta_country,
        upper(trim(raw.mixpanel_country_code)) as country_code,
        import_boolean(raw.is_active) as is_active,
        raw._row_number,
        {location} as _source_location,
        {record} as _source_record
    from ({raw}) as raw

),

flagged as (

    select
        *,
        case
            when meta_country is null or meta_country = '' or country_code is null or country_code = ''
                then 'null_key'
            when is_active is distinct from true then 'inactive_mapping'
            when not regexp_full_match(country_code, '[A-Z][A-Z]') then 'invalid_country_code'
        end as row_problem
    from legacy_rows

),

codes_per_label as (

    select
        meta_country,
        count(distinct country_code) as codes_of_label
    from flagged
    where row_problem is null
    group by meta_country

),

numbered as (

    select
        flagged.*,
        codes_per_label.codes_of_label,
        row_number() over (
            partition by flagged.meta_country, flagged.country_code, flagged.row_problem
            order by flagged._row_number
        ) as copy_number
    from flagged
    left join codes_per_label
        on flagged.meta_country = codes_per_label.meta_country

)

select
    meta_country,
    country_code,
    case
        when row_problem is not null then row_problem
        when codes_of_label > 1 then 'conflicting_country_code'
        when copy_number > 1 then 'exact_duplicate'
    end as _reject_reason,
    _source_location,
    _source_record
from numbered
order by _row_number
