"""What the loader hands to metrics and rules: the DuckDB tables and what was actually found.

A table always exists with every engine column (spec.py), even when no file was read; `datasets` says what
was found, so a rule can tell "no data" (INSUFFICIENT_DATA) from "data showing nothing" (a real zero).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb


@dataclass
class DatasetInfo:
    files: int  # files read (0 = dataset missing)
    rows: int  # clean rows loaded
    columns: frozenset[str]  # engine columns present in at least one input file

    @property
    def present(self) -> bool:
        return self.files > 0 and self.rows > 0


@dataclass
class LoadedData:
    con: duckdb.DuckDBPyConnection
    datasets: dict[str, DatasetInfo]  # every key of spec.DATASETS
    registers: dict[str, list[dict]]  # register -> the list under its top-level key; no file = no key
    quality: dict[str, dict] = field(default_factory=dict)  # findings.json data_quality section

    def missing(self, dataset: str, columns: tuple[str, ...] | list[str] = ()) -> list[str]:
        """Names of what is missing to use `columns` of `dataset`: ["dataset notices"] or
        ["column notices.decided_at", ...]; empty when everything is there."""
        info = self.datasets.get(dataset)
        if info is None or not info.present:
            return [f"dataset {dataset}"]
        return [f"column {dataset}.{c}" for c in columns if c not in info.columns]
