# Two commands set up a fresh machine (Python 3.11 required):
#   make build   build the bundled sample into an embedded DuckDB file
#   make test    sqlfluff lint, dbt build with every test, on-demand validation, pytest
# Both create .venv with the pinned dependencies of requirements.lock.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DBT_PROFILES_DIR := $(CURDIR)
export DUCKDB_PATH ?= $(CURDIR)/warehouse/ad_precompute.duckdb
export RAW_DATA_DIR ?= $(CURDIR)/data/sample
TEST_DUCKDB_PATH ?= $(CURDIR)/warehouse/test.duckdb

.PHONY: install build run test lint dbt-test validate pytest bench bench-queries docs clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

build: install
	@mkdir -p $(dir $(DUCKDB_PATH))
	$(BIN)/dbt build
	@echo ""
	@echo "Warehouse: $(DUCKDB_PATH)"
	@echo "Tables:    main.entity_daily_metrics, main.entity_country_breakdown"

# The pipeline step: build, check, report (target/precompute_run_report.json).
run: install
	$(BIN)/precompute run --warehouse $(DUCKDB_PATH)

lint: install
	@mkdir -p $(dir $(TEST_DUCKDB_PATH))
	DUCKDB_PATH=$(TEST_DUCKDB_PATH) $(BIN)/sqlfluff lint models analyses tests --processes 2

dbt-test: install
	@mkdir -p $(dir $(TEST_DUCKDB_PATH))
	rm -f $(TEST_DUCKDB_PATH)
	DUCKDB_PATH=$(TEST_DUCKDB_PATH) $(BIN)/dbt build
	DUCKDB_PATH=$(TEST_DUCKDB_PATH) $(BIN)/dbt compile --select "resource_type:analysis" --quiet

# Compare 500 random cells of the test warehouse with the on-demand path.
validate: install
	$(BIN)/precompute validate --cases 500 --warehouse $(TEST_DUCKDB_PATH)

pytest: install
	$(BIN)/python -m pytest -q

test: lint dbt-test validate pytest
	@echo ""
	@echo "All tests passed. Test warehouse: $(TEST_DUCKDB_PATH)"

# Year-scale build benchmark (several minutes); see benchmarks/README.md.
bench: install
	$(BIN)/python benchmarks/build.py

# Dashboard request latency, pre-computed vs on-demand, on the year data set.
bench-queries: install
	$(BIN)/python benchmarks/queries.py

docs: install
	$(BIN)/dbt docs generate

clean:
	rm -rf target logs warehouse
