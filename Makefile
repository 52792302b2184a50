# Everything a fresh machine needs: the first `make demo` or `make test` creates .venv and installs the
# pinned dependencies (requirements-dev.txt); later runs reuse it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint docs clean browser java

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)  ## the scheduled job end to end on a local S3/SES endpoint; results (and screenshots) in out/demo/
	$(BIN)/dsa-report demo --out out/demo

test: lint browser java  ## lint, then the whole test suite (browser checks and Spark tests included)
	$(BIN)/pytest

# The report and e-mails are checked in a real browser: Debian's chromium, installed only when missing.
browser:  ## install headless Chromium (Debian's package) when `chromium` is not on PATH
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing: run  sudo apt-get update && sudo apt-get install -y chromium" >&2; exit 1; fi

# The Spark tests run pyspark in local mode, which needs a Java runtime: Debian's OpenJDK 17 (pyspark 3.5 runs on
# 8, 11 and 17). Nothing happens when `java` is already on PATH.
java:  ## a Java runtime for Spark (Debian's openjdk-17-jre-headless)
	command -v java >/dev/null || (apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless)

bench: $(STAMP) java  ## runs from raw files and from the curated store vs bare DuckDB scans, Spark, pandas: 2M, then 10M (S3)
	$(BIN)/python -m dsa_report.tools.bench --rows $(or $(ROWS),2000000) --spark
	$(BIN)/python -m dsa_report.tools.bench --rows $(or $(SCALE_ROWS),10000000) --s3 --pandas --spark

docs: $(STAMP)  ## regenerate docs/obligations.md from the catalogue (a test fails when it is stale)
	$(BIN)/python -m dsa_report.tools.catalogue_docs

# checkov pins boto3 to an older release than the function's, so it lives in a virtualenv of its own, made
# after .venv (infra/requirements-checkov.txt says why). --skip-download: no call to the vendor's platform.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

$(CHECKOV_STAMP): infra/requirements-checkov.txt | $(STAMP)
	test -d $(CHECKOV_VENV) || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r infra/requirements-checkov.txt
	touch $(CHECKOV_STAMP)

lint: $(STAMP) $(CHECKOV_STAMP)  ## ruff, and checkov on template.yaml (every skip is justified in the template)
	$(BIN)/ruff check functions tests
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --skip-download --quiet --compact

clean:
	rm -rf out .pytest_cache .aws-sam

include infra/sam.mk
