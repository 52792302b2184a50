"""What the loader hands to metrics and rules: the DuckDB tables and what was actually found.

A table always exists with every engine column (spec.py), even when no file was read; `datasets` says what
was found, so a rule can tell "no data" (INSUFFICIENT_DATA) from "data showing nothing" (a real zero), and
how much of it could not be read, so a rule is never decided on part of a dataset without saying so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb


@dataclass
class DatasetInfo:
    files: int  # files read (0 = dataset missing)
    rows: int  # clean rows loaded
    columns: frozenset[str]  # engine columns present in at least one input file
    bytes: int = 0  # bytes of the files read
    unreadable_files: int = 0  # files of the dataset that could not be read (named in the data quality)
    unreadable_bytes: int = 0  # their bytes (a zip member: as declared expanded)

    @property
    def present(self) -> bool:
        return self.files > 0 and self.rows > 0

    @property
    def unreadable_share(self) -> float:
        """Share of the dataset's bytes that could not be read (1.0 when nothing of it was read)."""
        total = self.bytes + self.unreadable_bytes
        return self.unreadable_bytes / total if total else 1.0

    def unreadable_text(self) -> str:
        """'2 unreadable files, 13.5% of its bytes'."""
        share = self.unreadable_share
        shown = ("<0.1%" if 0 < share < 0.001 else ">99.9%" if 0.999 < share < 1
                 else f"{share:.1%}".replace(".0%", "%"))
        plural = "" if self.unreadable_files == 1 else "s"
        return f"{self.unreadable_files} unreadable file{plural}, {shown} of its bytes"


@dataclass
class LoadedData:
    con: duckdb.DuckDBPyConnection
    datasets: dict[str, DatasetInfo]  # every key of spec.DATASETS
    registers: dict[str, list[dict]]  # register -> the list under its top-level key; no file = no key
    quality: dict[str, dict] = field(default_factory=dict)  # findings.json data_quality section
    # share of a dataset's bytes that may be unreadable while it still counts as complete (config
    # `unreadable_tolerance`); 0.0: any unreadable file makes what needs the dataset INSUFFICIENT_DATA
    unreadable_tolerance: float = 0.0

    def missing(self, dataset: str, columns: tuple[str, ...] | list[str] = ()) -> list[str]:
        """Names of what is missing to use `columns` of `dataset`: ["dataset notices"],
        ["part of dataset notices (2 unreadable files, 13.5% of its bytes)"] or ["column notices.decided_at",
        ...]; empty when everything is there."""
        info = self.datasets.get(dataset)
        if info is None or not info.present:
            return [f"dataset {dataset} ({info.unreadable_text()})" if info and info.unreadable_files
                    else f"dataset {dataset}"]
        found = [f"column {dataset}.{c}" for c in columns if c not in info.columns]
        if info.unreadable_files and not info.unreadable_share < self.unreadable_tolerance:
            return [f"part of dataset {dataset} ({info.unreadable_text()})", *found]
        return found
