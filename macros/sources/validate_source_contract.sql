{% macro validate_source_contract() %}
    {%- if execute and flags.WHICH in ['run', 'build', 'test'] -%}
        {%- do ad_precompute.check_source_contract() -%}
    {%- endif -%}
    select 1
{% endmacro %}


{% macro check_source_contract() %}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set sources = graph.sources.values() | sort(attribute='unique_id') | list -%}
    {%- set table_names = sources | map(attribute='name') | list -%}
    {%- set allowed_empty = var('allow_empty_sources', []) -%}
    {%- if allowed_empty is string -%}{%- set allowed_empty = [allowed_empty] -%}{%- endif -%}
    {%- set problems = [] -%}
    {%- set missing_files = [] -%}

    {%- for name in allowed_empty if name not in table_names -%}
        {%- do problems.append(
            "var allow_empty_sources: '" ~ name ~ "' is not a source table (one of: "
            ~ table_names | join(', ') ~ ")"
        ) -%}
    {%- endfor -%}

    {%- for node in sources -%}
        {%- set label = "source " ~ node.source_name ~ "." ~ node.name -%}
        {%- set location = adapter.dispatch('source_location', 'ad_precompute')(node) -%}
        {%- set is_optional = ad_precompute.source_is_optional(node) -%}
        {%- set found = adapter.dispatch('source_columns', 'ad_precompute')(node) -%}
        {%- if found is none -%}
            {%- if not is_optional -%}
                {%- do problems.append(label ~ ": not found at " ~ location) -%}
                {%- do missing_files.append(node.name) -%}
            {%- endif -%}
        {%- else -%}
            {%- set found_types = {} -%}
            {%- for column in found -%}
                {%- do found_types.update({column.name | lower: column.type}) -%}
            {%- endfor -%}
            {%- for column in node.columns.values() -%}
                {%- set expected_type = column.data_type -%}
                {%- if column.name | lower not in found_types -%}
                    {%- do problems.append(label ~ " (" ~ location ~ "): missing column '" ~ column.name ~ "'") -%}
                {%- elif not expected_type -%}
                    {%- do problems.append(
                        label ~ ": column '" ~ column.name ~ "' has no data_type in its sources YAML"
                        ~ " (the contract type belongs there)"
                    ) -%}
                {%- else -%}
                    {%- set found_type = found_types[column.name | lower] -%}
                    {%- if not ad_precompute.contract_type_accepts(expected_type, found_type) -%}
                        {%- do problems.append(
                            label ~ " (" ~ location ~ "): column '" ~ column.name ~ "' has type "
                            ~ found_type | upper ~ ", expected " ~ expected_type | upper
                            ~ ad_precompute.contract_type_hint(column.name, expected_type)
                        ) -%}
                    {%- endif -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if not is_optional and node.name not in allowed_empty
                and adapter.dispatch('source_is_empty', 'ad_precompute')(node) -%}
                {%- do problems.append(
                    label ~ " (" ~ location ~ "): has no rows (if that is expected, add it to var "
                    ~ "allow_empty_sources: --vars '{allow_empty_sources: [" ~ node.name ~ "]}')"
                ) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if problems -%}
        {{ exceptions.raise_compiler_error(
            "Source contract violated (docs/metrics.md §1):\n  - "
            ~ problems | join("\n  - ")
            ~ ("\nSet the source directory with --vars '{raw_data_dir: <dir>}' or env var RAW_DATA_DIR."
               if missing_files else "")
        ) }}
    {%- endif -%}
    {%- do log("Source contract OK: " ~ sources | length ~ " source tables checked.", info=(flags.WHICH == 'run-operation')) -%}
{% endmacro %}


{% macro source_is_optional(node) -%}
    {%- set meta = node.config.get('meta') or node.get('meta') or {} -%}
    {{ return(meta.get('optional', false) == true) }}
{%- endmacro %}


{% macro contract_type_accepts(expected_type, found_type) -%}
    {%- set accepted_families = {
        'bigint': ['integer'],
        'double': ['integer', 'decimal', 'float'],
        'date': ['date', 'timestamp'],
        'timestamp': ['timestamp', 'timestamptz'],
        'varchar': ['varchar'],
        'boolean': ['boolean'],
    } -%}
    {%- set expected = expected_type | lower | trim -%}
    {%- if expected not in accepted_families -%}
        {{ exceptions.raise_compiler_error(
            "sources YAML: data_type '" ~ expected_type ~ "' is not a contract type (one of: "
            ~ accepted_families.keys() | join(', ') ~ ")"
        ) }}
    {%- endif -%}
    {%- set family = adapter.dispatch('source_type_family', 'ad_precompute')(found_type) -%}
    {{ return(family in accepted_families[expected]) }}
{%- endmacro %}


{% macro contract_type_hint(column_name, expected_type) -%}
    {%- set name = column_name | lower -%}
    {%- if expected_type | lower == 'varchar' and (name.endswith('_id') or name.endswith('_uuid')) -%}
        {{ return(" (an id must be text: a number loses its leading zeros)") }}
    {%- endif -%}
    {{ return("") }}
{%- endmacro %}


{% macro default__source_type_family(type_name) -%}
    {%- set type_upper = type_name | upper | trim -%}
    {%- set re = modules.re -%}
    {%- if re.match('^(TINYINT|SMALLINT|INT|INTEGER|BIGINT|INT2|INT4|INT8|INT64)$', type_upper) -%}
        {{ return('integer') }}
    {%- elif re.match('^(DECIMAL|NUMERIC|NUMBER)\\s*\\(\\s*\\d+\\s*,\\s*0\\s*\\)$', type_upper) -%}
        {#- engines such as Snowflake store integers as NUMBER(p, 0) -#}
        {{ return('integer') }}
    {%- elif re.match('^(DECIMAL|NUMERIC|NUMBER)(\\s*\\(.*\\))?$', type_upper) -%}
        {{ return('decimal') }}
    {%- elif re.match('^(FLOAT|FLOAT4|FLOAT8|FLOAT64|REAL|DOUBLE|DOUBLE PRECISION)$', type_upper) -%}
        {{ return('float') }}
    {%- elif type_upper == 'DATE' -%}
        {{ return('date') }}
    {%- elif re.match('^(TIMESTAMPTZ|TIMESTAMP_TZ|TIMESTAMP_LTZ|TIMESTAMP(\\s*\\(\\d+\\))? WITH (LOCAL )?TIME ZONE)$', type_upper) -%}
        {{ return('timestamptz') }}
    {%- elif re.match('^(TIMESTAMP|TIMESTAMP_NTZ|DATETIME)(\\s*\\(\\d+\\))?( WITHOUT TIME ZONE)?$', type_upper) -%}
        {{ return('timestamp') }}
    {%- elif re.match('^(VARCHAR|CHARACTER VARYING|TEXT|STRING)(\\s*\\(\\d+\\))?$', type_upper) -%}
        {{ return('varchar') }}
    {%- elif type_upper in ['BOOLEAN', 'BOOL'] -%}
        {{ return('boolean') }}
    {%- endif -%}
    {{ return('other') }}
{%- endmacro %}

{% macro duckdb__source_type_family(type_name) -%}
    {%- set type_upper = type_name | upper | trim -%}
    {%- if type_upper in [
        'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT',
        'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT'
    ] -%}
        {{ return('integer') }}
    {%- elif type_upper.startswith('DECIMAL') -%}
        {{ return('decimal') }}
    {%- elif type_upper in ['TIMESTAMP', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS'] -%}
        {{ return('timestamp') }}
    {%- elif type_upper == 'TIMESTAMP WITH TIME ZONE' -%}
        {{ return('timestamptz') }}
    {%- endif -%}
    {{ return(ad_precompute.default__source_type_family(type_name)) }}
{%- endmacro %}


{% macro default__source_location(node) -%}
    {{ return(node.database ~ "." ~ node.schema ~ "." ~ node.identifier) }}
{%- endmacro %}

{% macro duckdb__source_location(node) -%}
    {%- set path = ad_precompute.source_file_path(node) -%}
    {{ return(path if path else default__source_location(node)) }}
{%- endmacro %}


{% macro source_file_path(node) -%}
    {%- set location = node.config.get('external_location') or node.meta.get('external_location') -%}
    {%- if not location -%}{{ return(none) }}{%- endif -%}
    {%- set location = location | replace('{name}', node.name) | replace('{identifier}', node.identifier) -%}
    {%- set match = modules.re.search("'([^']+)'", location) -%}
    {{ return(match.group(1) if match else location) }}
{%- endmacro %}


{% macro default__source_columns(node) -%}
    {%- set relation = adapter.get_relation(node.database, node.schema, node.identifier) -%}
    {%- if relation is none -%}{{ return(none) }}{%- endif -%}
    {%- set columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do columns.append({'name': column.name, 'type': column.data_type}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{% macro duckdb__source_columns(node) -%}
    {%- set path = ad_precompute.source_file_path(node) -%}
    {%- if not path -%}{{ return(ad_precompute.default__source_columns(node)) }}{%- endif -%}
    {%- set escaped = path | replace("'", "''") -%}
    {%- set files = run_query("select count(*) from glob('" ~ escaped ~ "')") -%}
    {%- if files.columns[0].values()[0] == 0 -%}{{ return(none) }}{%- endif -%}
    {%- set described = run_query("describe select * from read_parquet('" ~ escaped ~ "')") -%}
    {%- set columns = [] -%}
    {%- for row in described.rows -%}
        {%- do columns.append({'name': row['column_name'], 'type': row['column_type']}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}


{% macro default__source_is_empty(node) -%}
    {%- set relation = adapter.get_relation(node.database, node.schema, node.identifier) -%}
    {%- set first_row = run_query("select 1 as found from " ~ relation ~ " limit 1") -%}
    {{ return(first_row.rows | length == 0) }}
{%- endmacro %}

{% macro duckdb__source_is_empty(node) -%}
    {%- set path = ad_precompute.source_file_path(node) -%}
    {%- if not path -%}{{ return(ad_precompute.default__source_is_empty(node)) }}{%- endif -%}
    {%- set escaped = path | replace("'", "''") -%}
    {#- count(*) of a Parquet file is read from its footer, without a scan -#}
    {%- set counted = run_query("select count(*) from read_parquet('" ~ escaped ~ "')") -%}
    {{ return(counted.columns[0].values()[0] == 0) }}
{%- endmacro %}


{% macro spark__source_type_family(type_name) -%}
    {%- set type_lower = type_name | lower | trim -%}
    {%- if type_lower == 'timestamp_ntz' -%}
        {{ return('timestamp') }}
    {%- elif type_lower == 'timestamp' -%}
        {{ return('timestamptz') }}
    {%- elif type_lower.startswith('decimal') -%}
        {{ return('decimal') }}
    {%- endif -%}
    {{ return(ad_precompute.default__source_type_family(type_name)) }}
{%- endmacro %}

{% macro spark__source_location(node) -%}
    {{ return(ad_precompute.duckdb__source_location(node)) }}
{%- endmacro %}

{% macro spark__source_columns(node) -%}
    {%- set path = ad_precompute.source_file_path(node) -%}
    {%- if not path -%}{{ return(ad_precompute.default__source_columns(node)) }}{%- endif -%}
    {%- if ad_precompute.source_is_optional(node) and not ad_precompute.spark_file_exists(path) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set described = run_query("describe query select * from " ~ ad_precompute.spark_parquet_relation(path)) -%}
    {%- set columns = [] -%}
    {%- for row in described.rows -%}
        {%- do columns.append({'name': row['col_name'], 'type': row['data_type']}) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{% macro spark__source_is_empty(node) -%}
    {%- set path = ad_precompute.source_file_path(node) -%}
    {%- if not path -%}{{ return(ad_precompute.default__source_is_empty(node)) }}{%- endif -%}
    {%- set first_row = run_query("select 1 as found from " ~ ad_precompute.spark_parquet_relation(path) ~ " limit 1") -%}
    {{ return(first_row.rows | length == 0) }}
{%- endmacro %}
