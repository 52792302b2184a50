"""Spark runs for real here: pyspark in local mode, one session for the whole test run.

Without Java (or pyspark) it cannot. Under CI=true that fails every Spark test; elsewhere each one reports
that it did not run, and the run ends with a banner saying so and how to fix it: never a silent skip.
"""

from __future__ import annotations

import os

import pytest

from dsa_report.engine import spark as engine_spark

MISSING = engine_spark.java_missing()
NOT_RUN = "Spark tests did not run"


@pytest.fixture(scope="session")
def spark():
    if MISSING:
        message = f"{NOT_RUN}: {MISSING}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    session = engine_spark.local_session(cores=2, shuffle_partitions=2)
    yield session
    session.stop()


def pytest_terminal_summary(terminalreporter):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if NOT_RUN in str(r.longrepr)]
    if skipped:
        terminalreporter.section("SPARK TESTS DID NOT RUN", sep="!", red=True, bold=True)
        terminalreporter.line(f"{len(skipped)} Spark tests did not run: {MISSING}. Install Java with `make java` "
                              "(Debian's openjdk-17-jre-headless), then run pytest tests/spark.", red=True, bold=True)
