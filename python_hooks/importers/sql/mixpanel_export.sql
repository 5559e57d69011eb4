-- Mixpanel's raw event export (JSON lines) -> text columns of mixpanel_event.
-- Placeholders (Python str.format): lines (a relation of file, line_number,
-- line), paths (one list of every JSON path tried: for each field the nested
-- shape first, then the flat shape's top-level keys), fields (each contract
-- column as the first path of its own that was found).
--
-- One row per non-blank line. `_reject_first` is `invalid_json` for a line that
-- is not JSON, `not_a_json_object` for JSON that is not an object; otherwise the
-- fields are text, cast by the importer like any other source's (the time by
-- import_export_time below). A missing field is NULL: the staging models reject
-- such an event with their own reason (null_event_uuid, null_event_time, ...).

create or replace temp macro import_export_time(value, zone) as
case
    -- an ISO date-time (some pipelines store one), taken like any TIMESTAMP text
    when try_cast(trim(value) as double) is null then import_timestamp(value)
    -- Unix seconds (the export's `time`), or milliseconds (`time_in_ms=true`):
    -- 1e11 s is the year 5138, 1e11 ms is 1973. `zone` is the project time zone
    -- of an old project whose export counts seconds of local wall-clock time.
    when abs(try_cast(trim(value) as double)) < 1e11
        then cast(timezone(zone, make_timestamp(
            cast(round(try_cast(trim(value) as double) * 1e6) as bigint)
        )) as timestamp)
    when abs(try_cast(trim(value) as double)) < 1e14
        then cast(timezone(zone, make_timestamp(
            cast(round(try_cast(trim(value) as double) * 1e3) as bigint)
        )) as timestamp)
end;

create or replace temp view export_fields as

with

parsed as (

    select
        file,
        line_number,
        line,
        -- one parse per line; NULL when the line is not JSON
        try(json_extract_string(line, {paths})) as found
    from {lines}
    where line is not null and trim(line) <> ''

),

extracted as (

    select
        *,
        case
            when found is null then 'invalid_json'
            -- found nothing: maybe not an object (only then is the line parsed again)
            when list_count(found) = 0 and json_type(line) <> 'OBJECT' then 'not_a_json_object'
        end as _reject_first
    from parsed

)

select
    {fields},
    _reject_first,
    file || ' line ' || line_number as _source_location,
    line as _source_record
from extracted
