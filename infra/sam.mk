# SAM's `BuildMethod: makefile` calls build-<LogicalId> with ARTIFACTS_DIR set: this is where the
# templates/ folder (outside functions/) joins the bundle, next to the package that renders them.
.PHONY: build-DsaReportFunction
build-DsaReportFunction:
	pip install --quiet --target "$(ARTIFACTS_DIR)" -r requirements.txt
	cp -r functions/dsa_report functions/handlers "$(ARTIFACTS_DIR)/"
	cp -r templates "$(ARTIFACTS_DIR)/dsa_report/templates"
	find "$(ARTIFACTS_DIR)" -name __pycache__ -prune -exec rm -rf {} +
