"""`precompute import`: the same data as a legacy SQLite database, a
Mixpanel export and CSV files gives the same marts as given as Parquet.

The reference is the tiny hand-written data set (pytests/tiny_dataset.py) built
from Parquet (conftest's `tiny_build`). Each input kind holds the same rows,
written out by python_hooks.importers.writers, plus rows the importer cannot
read (rejected with their reason, so the marts stay the same) and the quirks of
that kind: text dates with zones, products inside event_json, Meta rows
delivered twice and unmapped country labels in the legacy database; the nested
and the flat shape, milliseconds and garbage lines in the export; malformed
records in the CSV files. The marts are compared cell by cell (EXCEPT ALL both
ways, every column but computed_at).

The legacy schema keys events by event_uuid (primary key), so a delivery that
arrives twice is stored once there: its duplicate deliveries are the Meta rows.
The export and the CSV files keep tiny_dataset's repeated event e01.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import duckdb
import pytest

import tiny_dataset
from conftest import precompute_command, precompute_env, run_dbt, tiny_vars
from python_hooks.importers import writers
from python_hooks.release import file_sha256

MARTS = ("entity_daily_metrics", "entity_country_breakdown")
WINDOW = ["--start", tiny_dataset.START_DATE, "--as-of", tiny_dataset.AS_OF_DATE]

# The legacy dashboard's country mapping: (meta_country_name, mixpanel_country_code, is_active).
# The active rows agree with the seed on the labels the data uses, so the marts equal the
# reference; 'Atlantis' is inactive, so it stays unmapped (ZZ) as it is with the seed.
LEGACY_COUNTRY_MAPPING = [
    ("United States", " us", 1),       # code trimmed and upper-cased
    ("Germany", "DE", 1),
    ("Germany", "DE", 1),              # exact_duplicate
    ("Deutschland", "DE", 1),          # a label of its own (not in the data)
    ("Atlantis", "AT", 0),             # inactive_mapping: the label stays unmapped
    ("Oz", "AU", 1), ("Oz", "NZ", 1),  # conflicting_country_code, both rows
    ("Narnia", "NARN", 1),             # invalid_country_code
    (None, "FR", 1),                   # null_key
]


def precompute(work: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*precompute_command(), *args], cwd=work, env=precompute_env(work),
                          capture_output=True, text=True, timeout=600)


def assert_same_marts(warehouse: Path, reference: Path) -> None:
    """Both marts hold the same rows, cell by cell (computed_at aside), and are not empty."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as got (read_only)")
        con.execute(f"attach '{reference}' as ref (read_only)")
        for mart in MARTS:
            columns = [r[0] for r in con.execute(f"describe ref.main.{mart}").fetchall() if r[0] != "computed_at"]
            cols = ", ".join(f'"{c}"' for c in columns)
            extra = con.execute(f"select {cols} from got.main.{mart} except all "
                                f"select {cols} from ref.main.{mart}").fetchall()
            missing = con.execute(f"select {cols} from ref.main.{mart} except all "
                                  f"select {cols} from got.main.{mart}").fetchall()
            assert not extra and not missing, (
                f"{mart}: {len(extra)} rows only in {warehouse.name}, {len(missing)} only in the reference; "
                f"first: {(extra or missing)[0]}")
            assert con.execute(f"select count(*) from ref.main.{mart}").fetchall()[0][0] > 0
    finally:
        con.close()


def import_totals(stdout: str) -> tuple[int, int, int]:
    """(rows in, written, rejected) from the import's `rows in = ...` line."""
    line = next(line for line in stdout.splitlines() if "rows in = rows written + rows rejected" in line)
    numbers = line.split(":")[1].split(";")[0].replace(",", "").replace("=", "+").split("+")
    rows_in, written, rejected = (int(n) for n in numbers)
    assert rows_in == written + rejected, line
    return rows_in, written, rejected


def rejects_by_reason(parquet: Path) -> dict[tuple[str, str], int]:
    con = duckdb.connect()
    try:
        return {(t, r): n for t, r, n in con.execute(
            f"select source_table, reject_reason, count(*) from read_parquet('{parquet}') group by 1, 2").fetchall()}
    finally:
        con.close()


# --------------------------------------------------------------------------- the legacy SQLite database


def write_legacy_database(path: Path, raw_dir: Path) -> Path:
    """tiny_dataset as the legacy dashboard's database, with rows of its own kind."""
    writers.write_legacy_sqlite(raw_dir, path, country_mapping=LEGACY_COUNTRY_MAPPING)
    db = sqlite3.connect(path)
    db.executescript("""
        -- text datetimes in other ISO shapes, same instants
        update mixpanel_event set event_time = '2025-01-09T10:00:00Z' where event_uuid = 'e02';
        update mixpanel_event set event_time = '2025-01-03T01:59:59+02:00' where event_uuid = 'e50';
        update mixpanel_event set event_time = '2025-01-02 12:00:00.000000' where event_uuid = 'e60';
        -- Meta delivered twice (the country rows too): the models count it once
        insert into ad_performance_daily_country select * from ad_performance_daily_country where country = 'Atlantis';
        -- rows the importer cannot read
        insert into ad_performance_daily (ad_id, date, spend, impressions, clicks, meta_trials, meta_purchases)
            values ('a2', '2025-01-05', 'n/a', 1, 1, 0, 0);
        insert into ad_performance_daily_country (ad_id, date, country, spend, impressions, clicks, meta_trials, meta_purchases)
            values ('000777', '2025-13-02', 'United States', 1.0, 1, 1, 0, 0);
        insert into mixpanel_event values
            ('e90', 'RC Trial started', 'u1', 'yesterday', null, '{"properties": {"product_id": "prod_w"}}'),
            ('e91', 'RC Trial started', 'u2', '2025-01-02 11:00:00', null, '{"properties": {"product_id": ');
        insert into mixpanel_user values ('u7', '000777', 'c1', 'as1', 'US', 'maybe', null);
        insert into user_product_metrics values ('u1', 'prod_x', 'high', 0.1, 0.1, 5.0, null);
        -- display names (not in the Parquet reference: entity_names differs, the marts do not)
        insert into id_name_mapping values ('campaign', 'c1', 'Campaign One', null), ('ad', '000777', 'Zeros ad', null);
    """)
    db.commit()
    db.close()
    return path


LEGACY_IMPORT_REJECTS = {
    ("ad_performance_daily", "unreadable_spend"): 1,
    ("ad_performance_daily_country", "unreadable_date"): 1,
    ("mixpanel_event", "unreadable_event_time"): 1,
    ("mixpanel_event", "invalid_event_json"): 1,
    ("mixpanel_user", "unreadable_has_abi_attribution"): 1,
    ("user_product_metrics", "unreadable_trial_conversion_rate"): 1,
    ("breakdown_mapping_country", "exact_duplicate"): 1,
    ("breakdown_mapping_country", "inactive_mapping"): 1,
    ("breakdown_mapping_country", "conflicting_country_code"): 2,
    ("breakdown_mapping_country", "invalid_country_code"): 1,
    ("breakdown_mapping_country", "null_key"): 1,
}


def test_run_from_the_legacy_database_gives_the_parquet_marts(tiny_build, tmp_path):
    db = write_legacy_database(tmp_path / "dashboard.db", tiny_build["raw_dir"])
    warehouse = tmp_path / "wh" / "dash.duckdb"
    result = precompute(tmp_path, "run", "--source", f"sqlite:{db}", *WINDOW, "--warehouse", str(warehouse),
                        "--gate-cases", "300")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    rows_in, written, rejected = import_totals(result.stdout)
    assert rejected == sum(LEGACY_IMPORT_REJECTS.values())

    assert_same_marts(warehouse, tiny_build["warehouse"])

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        # the import's rejects are published with the models' own
        published = {(t, r): n for t, r, n in con.execute(
            "select source_table, reject_reason, count(*) from int_source_rows_rejected group by 1, 2").fetchall()}
        assert {k: published.get(k) for k in LEGACY_IMPORT_REJECTS} == LEGACY_IMPORT_REJECTS
        assert published[("ad_performance_daily_country", "exact_duplicate")] == 2  # Germany, and Atlantis twice
        located = con.execute("select source_record from int_source_rows_rejected "
                              "where reject_reason = 'invalid_event_json'").fetchall()
        assert located == [("dashboard.db mixpanel_event row 21: event_uuid=e91; distinct_id=u2; "
                            "event_name=RC Trial started; event_time=2025-01-02 11:00:00; product_id=NULL; "
                            'revenue_usd=NULL; event_json={"properties": {"product_id": ',)]
        names = dict(con.execute("select entity_id, entity_name from entity_names "
                                 "where entity_id in ('c1', '000777', '777')").fetchall())
        assert names == {"c1": "Campaign One", "000777": "Zeros ad", "777": "777"}
        meta = json.loads(con.execute("select metadata_json from precompute_release").fetchall()[0][0])
    finally:
        con.close()

    # the release says where its rows came from: the database's own fingerprint, and the import's counts
    imported = meta["imported_from"]
    assert imported["kind"] == "sqlite" and imported["files"][str(db)]["sha256"] == file_sha256(db)
    assert (imported["rows_in"], imported["rows_out"], imported["rows_rejected"]) == (rows_in, written, rejected)
    assert imported["tables"]["breakdown_mapping_country"]["rows_out"] == 3  # United States, Germany, Deutschland
    fingerprints = meta["source_fingerprints"]
    assert fingerprints["breakdown_mapping_country"]["rows"] == 3
    assert fingerprints["import_rejects"]["rows"] == rejected
    assert fingerprints["mixpanel_event"]["rows"] == 19  # 20 tiny rows, e01 stored once, + e90/e91 rejected


def test_import_sqlite_reports_every_row_and_stops_on_a_missing_table_or_column(tiny_build, tmp_path):
    db = write_legacy_database(tmp_path / "dashboard.db", tiny_build["raw_dir"])
    out = tmp_path / "imported"
    result = precompute(tmp_path, "import", "sqlite", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows_in, written, rejected = import_totals(result.stdout)
    source = sqlite3.connect(db)
    legacy_rows = sum(source.execute(f"select count(*) from {t}").fetchone()[0] for t in (
        "ad_performance_daily", "ad_performance_daily_country", "id_hierarchy_mapping", "id_name_mapping",
        "meta_country_mapping", "mixpanel_user", "mixpanel_event", "user_product_metrics"))
    assert rows_in == legacy_rows
    assert rejects_by_reason(out / "import_rejects.parquet") == LEGACY_IMPORT_REJECTS
    report = json.loads((out / "import_report.json").read_text())["tables"]
    assert all(t["rows_in"] == t["rows_out"] + t["rows_rejected"] for t in report.values())
    con = duckdb.connect()
    times = dict(con.execute(f"select event_uuid, cast(event_time as varchar) "
                             f"from read_parquet('{out}/mixpanel_event.parquet') "
                             f"where event_uuid in ('e02', 'e50', 'e60')").fetchall())
    assert times == {"e02": "2025-01-09 10:00:00", "e50": "2025-01-02 23:59:59", "e60": "2025-01-02 12:00:00"}
    assert con.execute(f"select product_id, count(*) from read_parquet('{out}/mixpanel_event.parquet') "
                       f"group by 1 order by 1").fetchall() == [("prod_m", 2), ("prod_w", 13), ("prod_y", 4)]
    con.close()

    source.executescript("drop table user_product_metrics; alter table mixpanel_event rename column event_time to ts;")
    source.close()
    again = precompute(tmp_path, "import", "sqlite", str(db), "--out", str(out))
    assert again.returncode == 3, again.stdout + again.stderr
    assert "missing table 'user_product_metrics'" in again.stderr
    assert "table 'mixpanel_event' has no column 'event_time'" in again.stderr
    assert rejects_by_reason(out / "import_rejects.parquet") == LEGACY_IMPORT_REJECTS  # nothing written


# --------------------------------------------------------------------------- Mixpanel's export


EXPORT_EXTRA_LINES = [
    "",                                                                         # blank: not a row
    "not json at all",                                                          # invalid_json
    '["a", "list"]',                                                            # not_a_json_object
    '{"event": "RC Trial started", "properties": {"time": "soon", "distinct_id": "u1", "$insert_id": "x1"}}',
    '{"event": "RC Renewal", "properties": {"time": 1736416800, "distinct_id": "u1", "$insert_id": "x2", '
    '"revenue": "9.99 USD"}}',                                                  # unreadable_revenue_usd
    # e01 delivered a third time, time in milliseconds and revenue under `revenue`: same event
    '{"event": "RC Trial started", "properties": {"time": 1735812000000, "distinct_id": "u1", '
    '"$insert_id": "e01", "product_id": "prod_w"}}',
]


def test_mixpanel_export_gives_the_parquet_marts(tiny_build, tmp_path):
    raw = tiny_dataset.write(tmp_path / "raw")  # the other five tables, as Parquet
    (raw / "mixpanel_event.parquet").unlink()
    export = tmp_path / "export.jsonl"
    lines = writers.write_mixpanel_export(tiny_build["raw_dir"], export, flat_every=3)
    with export.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(EXPORT_EXTRA_LINES) + "\n")

    result = precompute(tmp_path, "import", "mixpanel", str(export), "--out", str(raw))
    assert result.returncode == 0, result.stderr
    assert import_totals(result.stdout) == (lines + 5, lines + 1, 4)
    assert rejects_by_reason(raw / "import_rejects.parquet") == {
        ("mixpanel_event", "invalid_json"): 1, ("mixpanel_event", "not_a_json_object"): 1,
        ("mixpanel_event", "unreadable_event_time"): 1, ("mixpanel_event", "unreadable_revenue_usd"): 1}
    con = duckdb.connect()
    assert con.execute(f"select source_location from read_parquet('{raw}/import_rejects.parquet') "
                       f"order by 1").fetchall() == [(f"export.jsonl line {lines + n}",) for n in (2, 3, 4, 5)]
    assert con.execute(f"select count(*) from read_parquet('{raw}/mixpanel_event.parquet') "
                       "where event_uuid = 'e01' and event_time = timestamp '2025-01-02 10:00:00'").fetchall() == [(3,)]
    con.close()

    warehouse = tmp_path / "warehouse.duckdb"
    run_dbt(["build", "--vars", tiny_vars(raw)], duckdb_path=warehouse, target_path=tmp_path / "target")
    assert_same_marts(warehouse, tiny_build["warehouse"])


def test_mixpanel_export_options_properties_and_project_time_zone(tmp_path):
    export = tmp_path / "export.jsonl.gz"
    import gzip
    with gzip.open(export, "wt", encoding="utf-8") as fh:
        fh.write('{"event": "RC Initial purchase", "properties": {"time": 1735808400, "distinct_id": "u1", '
                 '"$insert_id": "p1", "sku": "prod_y", "price": 49.99, "revenue_usd": 1.0}}\n')
    out = tmp_path / "out"
    result = precompute(tmp_path, "import", "mixpanel", str(export), "--out", str(out), "--product-property", "sku",
                        "--revenue-property", "price", "--time-zone", "Europe/Berlin")
    assert result.returncode == 0, result.stderr
    con = duckdb.connect()
    # 1735808400 is 2025-01-02 09:00 as a Berlin wall clock, that is 08:00 UTC
    assert con.execute(f"select product_id, revenue_usd, cast(event_time as varchar) "
                       f"from read_parquet('{out}/mixpanel_event.parquet')").fetchall() == [
        ("prod_y", 49.99, "2025-01-02 08:00:00")]
    con.close()
    assert precompute(tmp_path, "import", "mixpanel", str(export), "--out", str(out),
                      "--time-zone", "Mars/Olympus").returncode == 2


# --------------------------------------------------------------------------- CSV files


@pytest.fixture(scope="module")
def mapped_reference(tmp_path_factory):
    """tiny_dataset as Parquet with a country mapping file of the run's own: 'Atlantis' -> AQ."""
    root = tmp_path_factory.mktemp("mapped_reference")
    raw = tiny_dataset.write(root / "raw")
    con = duckdb.connect()
    con.execute(f"copy (select 'Atlantis' as meta_country, 'AQ' as country_code) "
                f"to '{raw}/breakdown_mapping_country.parquet' (format parquet)")
    con.close()
    warehouse = root / "warehouse.duckdb"
    run_dbt(["build", "--vars", tiny_vars(raw)], duckdb_path=warehouse, target_path=root / "target")
    return {"raw_dir": raw, "warehouse": warehouse}


def test_csv_files_give_the_parquet_marts_with_their_own_country_mapping(tiny_build, mapped_reference, tmp_path):
    csv_dir = tmp_path / "csv"
    writers.write_csv_dir(mapped_reference["raw_dir"], csv_dir)
    with (csv_dir / "ad_performance_daily.csv").open("a", encoding="utf-8") as fh:
        fh.write('a2,2025-01-04,"12,50",1,1,0,0\n')        # unreadable_spend
        fh.write("a2,2025-01-04,1.0,1,1,0,0,surplus\n")     # malformed_record: a field too many
        fh.write("a2,2025-01-04T00:00:00+02:00,1.0,1,1,0,0\n")  # a date with a zone: unreadable_date
    out = tmp_path / "imported"
    result = precompute(tmp_path, "import", "csv", str(csv_dir), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert import_totals(result.stdout)[2] == 3
    assert rejects_by_reason(out / "import_rejects.parquet") == {
        ("ad_performance_daily", "unreadable_spend"): 1, ("ad_performance_daily", "malformed_record"): 1,
        ("ad_performance_daily", "unreadable_date"): 1}

    warehouse = tmp_path / "warehouse.duckdb"
    run_dbt(["build", "--vars", tiny_vars(out)], duckdb_path=warehouse, target_path=tmp_path / "target")
    assert_same_marts(warehouse, mapped_reference["warehouse"])

    # the mapping file did change the breakdown: Atlantis is AQ here, ZZ with the seed alone
    con = duckdb.connect(str(warehouse), read_only=True)
    codes = con.execute("select distinct country_code from entity_country_breakdown "
                        "where entity_id = '000777' order by 1").fetchall()
    con.close()
    assert codes == [("AQ",), ("US",), ("ZZ",)]  # ZZ: u2, a user without a country
    with pytest.raises(AssertionError):
        assert_same_marts(warehouse, tiny_build["warehouse"])

    # and the on-demand path (the validation gate) reads the same mapping
    from python_hooks.validate import run_gate
    gate = run_gate(warehouse=warehouse, cases=300, seed=1, raw_dir=out)
    assert gate["passed"], gate


def test_csv_import_stops_on_a_missing_column_and_keeps_other_imports_rejects(tmp_path):
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    (csv_dir / "id_hierarchy_mapping.csv").write_text("AD_ID , adset_id\n000777,as1\n")
    out = tmp_path / "out"
    result = precompute(tmp_path, "import", "csv", str(csv_dir), "--out", str(out))
    assert result.returncode == 3
    assert "id_hierarchy_mapping.csv: missing column 'campaign_id'" in result.stderr
    assert not out.exists() or not any(out.glob("*.parquet"))

    (csv_dir / "id_hierarchy_mapping.csv").write_text("AD_ID , adset_id,campaign_id\n000777,as1,c1\n\"bad,1\n")
    assert precompute(tmp_path, "import", "csv", str(csv_dir), "--out", str(out)).returncode == 0
    export = tmp_path / "e.jsonl"
    export.write_text("{broken\n")
    assert precompute(tmp_path, "import", "mixpanel", str(export), "--out", str(out)).returncode == 0
    assert rejects_by_reason(out / "import_rejects.parquet") == {
        ("id_hierarchy_mapping", "malformed_record"): 1, ("mixpanel_event", "invalid_json"): 1}
    con = duckdb.connect()
    assert con.execute(f"select * from read_parquet('{out}/id_hierarchy_mapping.parquet')").fetchall() == [
        ("000777", "as1", "c1")]  # '000777' stays text
    con.close()


def test_run_source_argument_errors_exit_2(tmp_path):
    for args in (["--source", "parquet:/x"], ["--source", "sqlite:"],
                 ["--source", "sqlite:/x.db", "--raw-dir", "/y"],
                 ["--source", "sqlite:/x.db", "--vars", "{raw_data_dir: /y}"]):
        result = precompute(tmp_path, "run", *args, "--warehouse", str(tmp_path / "w.duckdb"))
        assert result.returncode == 2, (args, result.stderr)
    missing = precompute(tmp_path, "run", "--source", f"sqlite:{tmp_path / 'none.db'}", "--warehouse",
                         str(tmp_path / "w.duckdb"))
    assert missing.returncode == 3 and "legacy database not found" in missing.stderr
    shutil.rmtree(tmp_path / "w.duckdb.releases", ignore_errors=True)
