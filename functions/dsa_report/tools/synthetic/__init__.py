"""A synthetic marketplace's transparency data, in the data contract's layout, with planted breaches.

`generate()` builds every dataset as DuckDB tables (set-based SQL, hash-based randomness: deterministic for a
seed whatever the thread count), writes them in the contract's formats, and returns a `Plan` that says what
was planted, the values the report must find, and the status each obligation must get for a VLOP
marketplace. Used by `dsa-report generate-data`, `dsa-report demo`, the tests and the benchmark.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from . import activity, authorities, enforcement, marketplace, registers, roles, sor
from .files import Writer
from .world import World, connect

__all__ = ["DATASET_FOLDERS", "EXPECTED_STATUS", "Plan", "generate"]

DATASET_FOLDERS = ("statements_of_reasons", "notices", "complaints", "traders", "enforcement_actions",
                   "listing_events", "active_recipients", "listings", "registers",
                   *authorities.FOLDERS)
MIN_SCALE, MIN_PERIOD_DAYS = 1000, 28

# What the planted data must give for a VLOP marketplace (tier: VLOP, marketplace: true).
EXPECTED_STATUS = {
    "DSA-17-SOR-COVERAGE": "FAIL", "DSA-17-SOR-COMPLETENESS": "FAIL", "DSA-24.5-SOR-SUBMISSION-DELAY": "WARN",
    "DSA-16-NOTICE-ACKNOWLEDGEMENT": "PASS", "DSA-16-NOTICE-TIMELINESS": "FAIL",
    "DSA-22-TRUSTED-FLAGGER-PRIORITY": "WARN", "DSA-20-COMPLAINT-TIMELINESS": "PASS",
    "DSA-20.6-HUMAN-REVIEW": "FAIL", "DSA-20-REVERSAL-RATE": "PASS",
    "DSA-23.1-REPEAT-INFRINGER-SUSPENSION": "FAIL", "DSA-23.1-PRIOR-WARNING": "FAIL",
    "DSA-23.1-SUSPENSION-DURATION": "PASS", "DSA-23.2-UNFOUNDED-NOTIFIERS": "WARN",
    "DSA-30-KYBC-COMPLETENESS": "FAIL", "DSA-30-KYBC-VERIFICATION": "WARN", "DSA-35-REAPPEARANCE-RATE": "WARN",
    "DSA-35-HIDDEN-LINK-SURVIVAL": "FAIL", "DSA-35-HIDDEN-LINK-PENALTIES": "FAIL",
    "DSA-35-PROACTIVE-DETECTION": "PASS", "DSA-24.2-ACTIVE-RECIPIENTS-PUBLICATION": "PASS",
    "DSA-33-VLOP-THRESHOLD": "PASS", "DSA-34-RA-FRESHNESS": "FAIL", "DSA-34-RA-COVERAGE": "PASS",
    "DSA-34-RA-BEFORE-LAUNCH": "PASS", "DSA-34-RA-OWN-DATA": "PASS", "DSA-35-MITIGATION-COVERAGE": "FAIL",
    "DSA-35-MITIGATION-EFFECTIVENESS": "FAIL", "DSA-37-AUDIT-FRESHNESS": "PASS",
    "DSA-42.4-AUDIT-PUBLICATION": "PASS", "DSA-42-TRANSPARENCY-REPORT": "FAIL", "DSA-71-COMMITMENTS": "FAIL",
    "DSA-30.7-TRADER-INFO-SHOWN": "FAIL", "DSA-31-INTERFACE-FIELDS": "PASS", "DSA-31.3-PRE-LISTING": "WARN",
    "DSA-27-RECOMMENDER-PARAMETERS": "PASS", "DSA-38-NON-PROFILING-OPTION": "FAIL", "DSA-40-DATA-ACCESS": "FAIL",
    "DSA-9-EFFECT-REPORTED": "FAIL", "DSA-10-ORDER-RECEIPT": "PASS", "DSA-10-INFORMATION-ORDERS": "PASS",
    "DSA-21-ODS-IMPLEMENTATION": "WARN", "DSA-32-BUYERS-INFORMED": "FAIL", "DSA-39-ADS-IN-REPOSITORY": "FAIL",
    "DSA-39-ADS-REPOSITORY-FIELDS": "PASS", "DSA-39-ADS-RETENTION": "PASS",
}


@dataclass(frozen=True)
class Plan:
    """What was planted, so tests and the demo can say what the report must find."""

    platform: str
    period_start: date
    period_end: date
    sor_rows: int  # rows written to the SoR files (history and exact duplicates included)
    planted: dict[str, object]


def generate(out: Path, *, scale: int = 200_000, seed: int = 7, period_start: date, period_end: date,
             platform: str = "ExampleMarket", sor_files: int | None = None, now: datetime | None = None) -> Plan:
    """Write a synthetic marketplace with `scale` statements of reasons dated in the period into `out`.

    The dataset folders of the contract under `out` are replaced; anything else in `out` is left alone.
    Nothing is dated after `now` (default: the wall clock, UTC): a statement of reasons or an acknowledgement
    that would come later is not there yet (created_at / acknowledged_at empty), as in a real export.
    """
    if scale < MIN_SCALE:
        raise ValueError(f"scale must be at least {MIN_SCALE}")
    if (period_end - period_start).days + 1 < MIN_PERIOD_DAYS:
        raise ValueError(f"the period must cover at least {MIN_PERIOD_DAYS} days")
    if seed < 0 or (sor_files is not None and sor_files < 1):
        raise ValueError("seed must be >= 0 and sor_files >= 1")
    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    world = World(seed, period_start, period_end, platform, scale, now)
    cast = roles.cast(world)
    spill = tempfile.TemporaryDirectory(prefix="dsa-synthetic-spill-")
    con = connect(world)
    con.execute("SET temp_directory = ?", [spill.name])  # where DuckDB spills when memory runs short
    try:
        sor.build(con, world, cast)
        planted: dict[str, object] = activity.build(con, world)
        planted |= _repeat_infringers(cast, enforcement.build(con, world, cast))
        planted |= marketplace.build(con, world, cast)
        planted |= authorities.build(con, world)
        out.mkdir(parents=True, exist_ok=True)
        for folder in DATASET_FOLDERS:
            shutil.rmtree(out / folder, ignore_errors=True)
        with Writer(con, out) as writer:
            rows = sor.write(con, world, writer, sor_files)
            activity.write(con, writer)
            enforcement.write(con, world, writer)
            marketplace.write(con, world, writer)
            authorities.write(con, writer)
        _, register_facts = registers.write_registers(out, world)
        _, average = registers.write_active_recipients(out, world)
        planted |= register_facts | _measured(con) | {
            "kybc_incomplete_traders": sorted(cast.kybc_missing),
            "kybc_missing": cast.kybc_missing,
            "sor_duplicate_puids": [r[0] for r in con.execute(
                "SELECT puid(seq) AS p FROM sor_base WHERE copy_no = 1 ORDER BY p").fetchall()],
            "avg_monthly_active_recipients_6m": average,
            "expected_status": dict(EXPECTED_STATUS),
        }
    finally:
        con.close()
        spill.cleanup()
    return Plan(platform, period_start, period_end, rows, planted)


def _repeat_infringers(cast: roles.Cast, found: dict[str, object]) -> dict[str, object]:
    """Check the generated tables tell the planted story (t* per DSA-23.1), then report it."""
    for role in ("late", "unsuspended"):
        if sorted(found[f"repeat_infringers_{role}"]) != sorted(getattr(cast, role)):
            raise RuntimeError(f"repeat infringers {role}: planted {getattr(cast, role)}, "
                               f"generated {found[f'repeat_infringers_{role}']}")
    compliant, pending = found.pop("repeat_infringers_compliant"), found.pop("repeat_infringers_pending")
    if not (set(cast.compliant) <= set(compliant) and set(cast.pending) <= set(pending)):
        raise RuntimeError("planted compliant or pending repeat infringers are missing from the generated data")
    return found | {
        "repeat_infringers_compliant": sorted(cast.compliant), "repeat_infringers_compliant_count": len(compliant),
        "repeat_infringers_pending": sorted(cast.pending), "repeat_infringers_pending_count": len(pending),
        "repeat_infringers_t_star": dict(sorted(cast.t_star.items())),
        "suspensions_without_prior_warning": sorted(cast.no_prior_warning),
    }


_MEASURES = {
    "sor_count": "SELECT count(*) FROM sor_base WHERE copy_no = 0 AND app_ts >= ps() AND app_ts < pe_end()",
    "sor_incomplete_count": "SELECT count(*) FROM sor_base WHERE copy_no = 0 AND missing IS NOT NULL"
                            " AND app_ts >= ps() AND app_ts < pe_end()",
    # not submitted yet (created_ts null): the delay reached at the cut-off, as DSA-24.5 counts it
    "sor_submission_delay_p95_days": "SELECT quantile_cont(coalesce(created_ts, (SELECT greatest(pe_end(),"
                                     " max(created_ts)) FROM sor_base))::DATE - app_ts::DATE, 0.95) FROM sor_base"
                                     " WHERE copy_no = 0 AND app_ts >= ps() AND app_ts < pe_end()",
    "notice_median_decision_hours": "SELECT median(epoch(decided_at - received_at) / 3600) FROM notices"
                                    " WHERE received_at >= ps() AND received_at < pe_end()",
    "trusted_flagger_median_decision_hours": "SELECT median(epoch(decided_at - received_at) / 3600) FROM notices"
        " WHERE received_at >= ps() AND received_at < pe_end() AND source_type = 'SOURCE_TRUSTED_FLAGGER'",
    "article16_median_decision_hours": "SELECT median(epoch(decided_at - received_at) / 3600) FROM notices"
        " WHERE received_at >= ps() AND received_at < pe_end() AND source_type = 'SOURCE_ARTICLE_16'",
    "notice_ack_within_24h_share": "SELECT avg((acknowledged_at <= received_at + INTERVAL 24 HOUR)::INTEGER)"
                                   " FROM notices WHERE received_at >= ps() AND received_at < pe_end()",
    "complaint_reversal_rate": "SELECT avg((outcome <> 'DECISION_UPHELD')::INTEGER) FROM complaints"
                               " WHERE decided_at IS NOT NULL",
    "kybc_verified_share": "SELECT avg((kyc_verified_at IS NOT NULL)::INTEGER) FROM traders WHERE status = 'ACTIVE'",
    "hidden_link_median_survival_days": """
        SELECT median(epoch(r.occurred_at - l.listed) / 86400) FROM listing_events r
        JOIN (SELECT item_id, min(occurred_at) AS listed FROM listing_events WHERE event = 'LISTED' GROUP BY ALL) l
          USING (item_id)
        WHERE r.event = 'REMOVED' AND r.hidden_link AND r.occurred_at >= ps() AND r.occurred_at < pe_end()""",
    "reappearance_rate": """
        SELECT count(DISTINCT a.reappearance_of) / count(DISTINCT r.item_id) FROM listing_events r
        LEFT JOIN listing_events a ON a.reappearance_of = r.item_id AND a.event = 'REAPPEARED'
          AND a.occurred_at >= ps() AND a.occurred_at < pe_end()
        WHERE r.event = 'REMOVED' AND r.occurred_at >= ps() AND r.occurred_at < pe_end()""",
}


def _measured(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Metrics of the obligations' metrics layer, measured on the generated tables (period only)."""
    return {name: con.execute(sql).fetchall()[0][0] for name, sql in _MEASURES.items()}
