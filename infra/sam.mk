# SAM's `BuildMethod: makefile` calls build-<LogicalId> with ARTIFACTS_DIR set: this is where the
# templates/ folder (outside functions/) joins the bundle, next to the package that renders them, and where
# the development tools (dsa_report/tools: demo, bench, synthetic data, docs generator) are left out.
# The report function and the arrival function run the same bundle (one package, two handlers), so both
# targets have the same recipe.
.PHONY: build-DsaReportFunction build-ArrivalFunction bundle-code
build-DsaReportFunction build-ArrivalFunction: bundle-code
	# wheels for the Lambda runtime (CPython 3.12, x86_64), whatever the build machine is: no Docker needed
	# (126 MB unzipped, measured with `du --apparent-size`: DuckDB 69 MB, botocore 33 MB; Lambda allows 250 MB)
	pip install --quiet --target "$(ARTIFACTS_DIR)" --implementation cp --python-version 3.12 \
		--platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --only-binary=:all: -r requirements.txt

# The project's own code as the Lambda runs it: handlers, the core package without tools/, the templates.
bundle-code:
	mkdir -p "$(ARTIFACTS_DIR)"
	cp -r functions/dsa_report functions/handlers "$(ARTIFACTS_DIR)/"
	rm -rf "$(ARTIFACTS_DIR)/dsa_report/tools"
	cp -r templates "$(ARTIFACTS_DIR)/dsa_report/templates"
	find "$(ARTIFACTS_DIR)" -name __pycache__ -prune -exec rm -rf {} +
