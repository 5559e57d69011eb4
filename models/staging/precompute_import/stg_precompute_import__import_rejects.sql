-- One row per input row that `precompute import` could not read, in the
-- shape of int_source_rows_rejected: the record is prefixed with where it was.
-- No file (the directory was not imported): no rows.

with

source as (

    {{ select_from_optional_source('precompute_import', 'import_rejects') }}

),

renamed as (

    select
        cast(source_table as {{ dbt.type_string() }}) as source_table,
        cast(reject_reason as {{ dbt.type_string() }}) as reject_reason,
        {{ dbt.concat([
            "coalesce(cast(source_location as " ~ dbt.type_string() ~ "), 'unknown location')",
            "': '",
            "coalesce(cast(source_record as " ~ dbt.type_string() ~ "), 'NULL')",
        ]) }} as source_record
    from source

)

select * from renamed
