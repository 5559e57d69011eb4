-- Text -> contract type (docs/metrics.md §1), for `precompute import`.
-- Each macro returns NULL when the text cannot be read as the type; the
-- importer then rejects the row as `unreadable_<column>` (a NULL input stays
-- NULL and is kept: the models decide what a NULL means). Run in a session
-- whose TimeZone is UTC.

-- A whole number, or a float with no fraction (`3.0`, as a REAL column of
-- SQLite holds it). `3.5` is not a BIGINT: rounding it would be a silent change.
create or replace temp macro import_bigint(value) as
case
    when regexp_full_match(trim(value), '[+-]?[0-9]+') then try_cast(trim(value) as bigint)
    when
        try_cast(trim(value) as double) = trunc(try_cast(trim(value) as double))
        and abs(try_cast(trim(value) as double)) < 9.2e18
        then cast(try_cast(trim(value) as double) as bigint)
end;

-- Any decimal or float text, NaN and ±Infinity included: the staging models
-- reject non-finite values with their own reasons (non_finite_measure, ...).
create or replace temp macro import_double(value) as
try_cast(trim(value) as double);

-- YYYY-MM-DD, optionally followed by a time of day without a zone (the time is
-- dropped, as for a TIMESTAMP source column). A zone would make the calendar
-- day depend on it, so such text is not a date.
create or replace temp macro import_date(value) as
case
    when regexp_full_match(
        trim(value), '[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?'
    ) then cast(try_cast(trim(value) as timestamp) as date)
end;

-- An ISO date-time; with a zone or offset (`Z`, `+02:00`, `-0500`, ` UTC`) it is
-- converted to UTC, without one it is taken as UTC (docs/metrics.md §1: event_time is
-- UTC). The zone-aware cast is several times slower, so only text that ends
-- with a zone takes it (a plain TIMESTAMP cast would ignore the zone).
create or replace temp macro import_timestamp(value) as
case
    when contains(value, ':') and regexp_matches(trim(value), '(Z|z|[+-][0-9]{2}(:?[0-9]{2})?|[A-Za-z]{3,})$')
        then cast(try_cast(trim(value) as timestamptz) as timestamp)
    else try_cast(trim(value) as timestamp)
end;

-- true / false, t / f, 1 / 0, yes / no, in any case.
create or replace temp macro import_boolean(value) as
try_cast(trim(value) as boolean);
