# Everything a fresh machine needs: the first `make demo` or `make test` creates .venv and installs the
# pinned dependencies (requirements-dev.txt); later runs reuse it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint docs clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)  ## the scheduled job end to end on a local S3/SES endpoint; results in out/demo/
	$(BIN)/dsa-report demo --out out/demo

test: $(STAMP)  ## lint, then the whole test suite
	$(BIN)/ruff check functions tests
	$(BIN)/pytest

bench: $(STAMP)  ## full run vs bare DuckDB scan: 2M SoRs from a folder, then 10M through S3 vs pandas
	$(BIN)/python -m dsa_report.tools.bench --rows $(or $(ROWS),2000000)
	$(BIN)/python -m dsa_report.tools.bench --rows $(or $(SCALE_ROWS),10000000) --s3 --pandas

docs: $(STAMP)  ## regenerate docs/obligations.md from the catalogue (a test fails when it is stale)
	$(BIN)/python -m dsa_report.tools.catalogue_docs

lint: $(STAMP)
	$(BIN)/ruff check functions tests

clean:
	rm -rf out .pytest_cache .aws-sam

include infra/sam.mk
