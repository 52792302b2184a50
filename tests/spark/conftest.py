"""Spark runs for real here: pyspark in local mode, one session for the whole test run.

`make test` installs Java first (`make java`); without it (or pyspark) every Spark test fails naming what is
missing: never a skip.
"""

from __future__ import annotations

import pytest

from dsa_report.engine import spark as engine_spark


@pytest.fixture(scope="session")
def spark():
    missing = engine_spark.java_missing()
    if missing:
        pytest.fail(f"Spark tests cannot run: {missing}", pytrace=False)
    session = engine_spark.local_session(cores=2, shuffle_partitions=2)
    yield session
    session.stop()
