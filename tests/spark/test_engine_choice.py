"""DSA_ENGINE picks the engine that evaluates the rules; a mistyped one is refused, never DuckDB by default."""

from __future__ import annotations

import pytest

from dsa_report.app.settings import Settings


@pytest.mark.parametrize("env, engine", [({}, "duckdb"), ({"DSA_ENGINE": ""}, "duckdb"),
                                         ({"DSA_ENGINE": "spark"}, "spark"), ({"DSA_ENGINE": " Spark "}, "spark")])
def test_dsa_engine_names_the_engine(env, engine):
    assert Settings.from_env(env).engine == engine


def test_an_unknown_engine_is_refused_by_name():
    with pytest.raises(ValueError, match="DSA_ENGINE must be one of duckdb, spark, not 'sparc'"):
        Settings.from_env({"DSA_ENGINE": "sparc"})
