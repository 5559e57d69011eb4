# Two commands set up a fresh machine (Python 3.11 required):
#   make build   the main job on the bundled sample: build, gate, publish a release
#   make test    sqlfluff lint, dbt build with every test, on-demand validation, pytest
# Both create .venv with the pinned dependencies of requirements.lock.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DBT_PROFILES_DIR := $(CURDIR)
# The published warehouse (a symlink to the current release; see README "Releases").
WAREHOUSE ?= $(CURDIR)/warehouse/ad_precompute.duckdb
# Plain dbt builds (analysts, tests) write their own files, never a release.
DEV_DUCKDB_PATH ?= $(CURDIR)/warehouse/dev/ad_precompute.duckdb
TEST_DUCKDB_PATH ?= $(CURDIR)/warehouse/test.duckdb
ARGS ?=

.PHONY: install build run dbt-build test checks lint dbt-test validate pytest bench bench-queries docs clean \
	install-spark spark-build test-spark bench-spark

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The Spark target (README "Spark"): dbt-spark and pyspark on top of the lock, and Java 17.
SPARK_STAMP := $(VENV)/.installed-spark
export SPARK_WAREHOUSE_DIR ?= $(CURDIR)/warehouse/spark
export SPARK_SCHEMA ?= ad_precompute
# test-spark: the DuckDB build it is compared with, and its report
SPARK_PARITY_DIR ?= $(CURDIR)/warehouse/spark_parity

install-spark: $(SPARK_STAMP)

$(SPARK_STAMP): requirements-spark.lock $(STAMP)
	@command -v java >/dev/null || { echo "Spark needs Java 17: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet -r requirements-spark.lock -c requirements.lock
	touch $(SPARK_STAMP)

# The main job: dbt build into a private file, every gate, then publish a release.
build: install
	$(BIN)/precompute run --warehouse $(WAREHOUSE) $(ARGS)
	@echo ""
	@echo "Published: $(WAREHOUSE) (open it read-only)"
	@echo "Tables:    entity_daily_metrics, entity_country_breakdown, entity_cohort_curves, entity_names, precompute_release,"
	@echo "           entity_daily_range_parts, entity_country_range_parts, level_daily_range_parts (range totals)"
	@echo "Releases:  $(BIN)/precompute releases --warehouse $(WAREHOUSE)"

run: build

# Plain dbt build of every model into one file, as an analyst runs it (no release).
dbt-build: install
	@mkdir -p $(dir $(DEV_DUCKDB_PATH))
	DUCKDB_PATH=$(DEV_DUCKDB_PATH) $(BIN)/dbt build
	@echo "Warehouse (every model, not a release): $(DEV_DUCKDB_PATH)"

lint: install
	@mkdir -p $(dir $(TEST_DUCKDB_PATH))
	DUCKDB_PATH=$(TEST_DUCKDB_PATH) $(BIN)/sqlfluff lint models analyses tests --processes 2
	$(BIN)/sqlfluff lint python_hooks/on_demand_sql --templater jinja

dbt-test: install
	@mkdir -p $(dir $(TEST_DUCKDB_PATH))
	rm -f $(TEST_DUCKDB_PATH)
	DUCKDB_PATH=$(TEST_DUCKDB_PATH) $(BIN)/dbt build
	DUCKDB_PATH=$(TEST_DUCKDB_PATH) $(BIN)/dbt compile --select "resource_type:analysis" --quiet

# Compare 500 random cells of the test warehouse with the on-demand path.
validate: install
	$(BIN)/precompute validate --cases 500 --warehouse $(TEST_DUCKDB_PATH)

# pytest on PYTEST_WORKERS pytest-xdist workers (auto: one per core); the warehouses
# many files read are built once for all workers (pytests/conftest.py).
# PYTEST_ARGS: more pytest arguments, e.g. PYTEST_ARGS="-k releases".
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
pytest: install
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --durations=10 $(PYTEST_ARGS)

# make test: two jobs at once (make -j2). One runs the checks: lint, then the dbt build with
# every test, then the validation (they share target/ and the test warehouse; a failed step
# stops the job). The other runs pytest. -k: a failed job does not stop the other. Each
# job's output is printed whole when it ends (--output-sync).
# Browser test (pytests/test_browser.py): runs where this browser is installed.
CHROMIUM := /usr/bin/chromium

test: install
	@started=$$(date +%s); \
	$(MAKE) --no-print-directory -j2 -k --output-sync=recurse checks pytest; status=$$?; \
	echo ""; echo "make test: $$(( $$(date +%s) - started )) s wall"; \
	if [ ! -x $(CHROMIUM) ]; then \
		echo ""; echo "################################ WARNING ################################"; \
		echo "# The browser test (pytests/test_browser.py) did NOT run: no $(CHROMIUM)."; \
		echo "# The page was not checked in a browser. Install Debian's Chromium"; \
		echo "# (apt-get install chromium; .ci/run does it) and run make test again."; \
		echo "#########################################################################"; \
	fi; \
	if [ $$status -ne 0 ]; then echo ""; echo "make test FAILED (see the errors above)"; exit 1; fi; \
	echo "All tests passed. Test warehouse: $(TEST_DUCKDB_PATH)"

checks:
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory dbt-test
	@$(MAKE) --no-print-directory validate

# Year-scale build benchmark (several minutes); see benchmarks/README.md.
bench: install
	$(BIN)/python benchmarks/build.py

# Dashboard request latency, pre-computed vs on-demand, on the year data set.
bench-queries: install
	$(BIN)/python benchmarks/queries.py

# Plain dbt build of every model and test on Spark (method: session, local[2]), into
# $(SPARK_WAREHOUSE_DIR); no release (README "Spark": how a Spark deployment publishes).
spark-build: install-spark
	$(BIN)/dbt build --target spark --target-path target/spark

# The sample on Spark, compared with a DuckDB build of the same sample cell for cell
# (devtools/compare_marts.py): lists and counts exactly, money to the cent,
# rates and ratios to 1e-4. Both builds start from nothing.
test-spark: install-spark
	rm -rf $(SPARK_WAREHOUSE_DIR) $(SPARK_PARITY_DIR)
	@mkdir -p $(SPARK_PARITY_DIR)
	DUCKDB_PATH=$(SPARK_PARITY_DIR)/duckdb.duckdb $(BIN)/dbt build --resource-type model --resource-type seed \
		--target-path target/spark_parity_duckdb --quiet
	$(BIN)/dbt build --target spark --target-path target/spark
	$(BIN)/python -m devtools.compare_marts --reference $(SPARK_PARITY_DIR)/duckdb.duckdb \
		--candidate $(SPARK_WAREHOUSE_DIR)/$(SPARK_SCHEMA).db --report $(SPARK_PARITY_DIR)/compare_marts.json

# Spark local against DuckDB on the sample and a scaled-up set; see benchmarks/README.md.
bench-spark: install-spark
	$(BIN)/python benchmarks/spark.py

docs: install
	DUCKDB_PATH=$(DEV_DUCKDB_PATH) $(BIN)/dbt docs generate

clean:
	rm -rf target logs
	find warehouse -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +
