"""The deployment's settings, read once from the environment (the Lambda function's variables, or the shell)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..vocabulary import AUDIENCES


@dataclass(frozen=True)
class Settings:
    config_uri: str | None = None  # DSA_CONFIG: the config when the event names none
    period_kind: str = "month"  # DSA_PERIOD_KIND: the schedule's kind of period when the event names none
    reports_bucket: str | None = None  # REPORTS_BUCKET: the archive
    ledger_table: str | None = None  # LEDGER_TABLE: the delivery ledger (DynamoDB)
    workdir: str | None = None  # DSA_WORKDIR: where downloads and spill files go (default: the temp folder)
    memory_limit: str | None = None  # DSA_MEMORY_LIMIT: DuckDB's memory limit, e.g. "8GB"
    database_on_disk: bool = False  # DSA_DATABASE=file: tables in a compressed file, for periods beyond memory
    ses_configuration_set: str | None = None  # SES_CONFIGURATION_SET: every e-mail is sent with it (TLS required)
    engine: str = "duckdb"  # DSA_ENGINE: what evaluates the rules, duckdb (the Lambda's) or spark (engine/spark.py)
    curated_uri: str | None = None  # DSA_CURATED: the curated store runs read (and the arrival function writes)
    arrival_audience: str | None = None  # DSA_ARRIVAL_AUDIENCE: mailed when an object lands with rows quarantined

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            config_uri=env.get("DSA_CONFIG") or None,
            period_kind=env.get("DSA_PERIOD_KIND") or "month",
            reports_bucket=env.get("REPORTS_BUCKET") or None,
            ledger_table=env.get("LEDGER_TABLE") or None,
            workdir=env.get("DSA_WORKDIR") or None,
            memory_limit=env.get("DSA_MEMORY_LIMIT") or None,
            database_on_disk=env.get("DSA_DATABASE", "memory") == "file",
            ses_configuration_set=env.get("SES_CONFIGURATION_SET") or None,
            engine=_engine(env.get("DSA_ENGINE") or "duckdb"),
            curated_uri=env.get("DSA_CURATED") or None,
            arrival_audience=_audience(env.get("DSA_ARRIVAL_AUDIENCE") or None),
        )


ENGINES = ("duckdb", "spark")


def _engine(name: str) -> str:
    """A mistyped engine is an error, never a silent fall back to DuckDB."""
    if name.strip().lower() not in ENGINES:
        raise ValueError(f"DSA_ENGINE must be one of {', '.join(ENGINES)}, not {name!r}")
    return name.strip().lower()


def _audience(name: str | None) -> str | None:
    """A mistyped audience is an error, never a notice silently not sent."""
    if name is not None and name.strip() not in AUDIENCES:
        raise ValueError(f"DSA_ARRIVAL_AUDIENCE must be one of {', '.join(AUDIENCES)} or empty, not {name!r}")
    return name.strip() if name else None
