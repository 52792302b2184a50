"""Build engine tables by hand for rule and metric tests: tiny rows in an in-memory DuckDB."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb

from dsa_report.engine.evaluate import effective_parameters, evaluate_one
from dsa_report.engine.outcome import Outcome, jsonable
from dsa_report.engine.periods import Period
from dsa_report.ingest import contract as spec
from dsa_report.ingest.loaded import DatasetInfo, LoadedData
from dsa_report.obligations.evaluation import context, default_catalogue

H2 = Period("2025-H2", date(2025, 7, 1), date(2025, 12, 31), "half-year")
Q3 = Period("2025-Q3", date(2025, 7, 1), date(2025, 9, 30), "quarter")


def make_data(
    tables: dict[str, list[dict]],
    registers: dict | None = None,
    columns_absent: dict[str, set[str]] | None = None,
) -> LoadedData:
    """Every engine table of spec.DATASETS, filled with `tables[dataset]` (missing keys are NULL).

    DatasetInfo: files=1 when rows are given, else 0; columns = all spec columns minus `columns_absent`.
    """
    con = duckdb.connect(":memory:")
    for ddl in spec.create_types_sql():
        con.execute(ddl)
    datasets = {}
    absent_by_dataset = columns_absent or {}
    for name, dataset in spec.DATASETS.items():
        con.execute(spec.create_table_sql(dataset))
        rows = tables.get(name, [])
        names = [c.name for c in dataset.columns if c.kept]  # a column checked but not kept is dropped
        unknown = {k for row in rows for k in row} - {c.name for c in dataset.columns}
        if unknown:
            raise ValueError(f"{name}: no such column(s) {sorted(unknown)}")
        if rows:
            placeholders = ", ".join("?" for _ in names)
            con.executemany(
                f"INSERT INTO {spec.TABLES[name]} VALUES ({placeholders})",  # noqa: S608 - names from spec
                [[row.get(c) for c in names] for row in rows],
            )
        absent = absent_by_dataset.get(name, set())
        datasets[name] = DatasetInfo(
            files=1 if rows else 0, rows=len(rows), columns=frozenset(names) - absent
        )
    return LoadedData(con=con, datasets=datasets, registers=dict(registers or {}), quality={})


def ts(text: str) -> datetime:
    """'2025-07-01' or '2025-07-01 10:30' -> datetime."""
    return datetime.fromisoformat(text)


def outcome(
    obligation_id: str,
    data: LoadedData,
    period: Period = H2,
    *,
    tier: str = "VLOP",
    marketplace: bool = True,
    **overrides,
) -> Outcome:
    """Evaluate one obligation of the shipped catalogue, with parameter overrides."""
    catalogue = default_catalogue()
    params = effective_parameters(catalogue, {obligation_id: overrides})
    ctx = context(data, period, tier=tier, marketplace=marketplace, params=params)
    return evaluate_one(catalogue.get(obligation_id), ctx, params[obligation_id])


# ---- row builders: the columns a test does not care about stay NULL -----------------------------------


def sor(uid: str, applied: str, *, ground: str = "ILLEGAL", **columns) -> dict:
    """A statement of reasons with the Art. 17(3) fields of its ground filled."""
    row = {
        "platform_name": "ExampleMarket",
        "platform_uid": uid,
        "application_date": ts(applied),
        "decision_ground": f"DECISION_GROUND_{ground}_CONTENT",
    }
    if ground == "ILLEGAL":
        row |= {"has_illegal_content_legal_ground": True, "has_illegal_content_explanation": True}
    else:
        row |= {"has_incompatible_content_ground": True, "has_incompatible_content_explanation": True}
    return row | columns


def notice(nid: str, received: str, *, decided_after_hours: float | None = None, **columns) -> dict:
    row = {"notice_id": nid, "received_at": ts(received), "source_type": "SOURCE_ARTICLE_16"}
    if decided_after_hours is not None:
        row["decided_at"] = ts(received) + timedelta(hours=decided_after_hours)
    return row | columns


def action(aid: str, trader_id: str, kind: str, at: str, **columns) -> dict:
    return {"action_id": aid, "trader_id": trader_id, "action": kind, "occurred_at": ts(at)} | columns


def event(eid: str, item_id: str, kind: str, at: str, **columns) -> dict:
    return {"event_id": eid, "item_id": item_id, "event": kind, "occurred_at": ts(at)} | columns


def trader(tid: str, **columns) -> dict:
    """An ACTIVE trader with live listings and complete KYBC flags."""
    return {
        "trader_id": tid,
        "status": "ACTIVE",
        "live_listings": 5,
        "kyc_contact": True,
        "kyc_id_document": True,
        "kyc_payment_account": True,
        "kyc_self_certification": True,
    } | columns


def items(outcome: Outcome) -> list:
    """An outcome's full evidence list as JSON values (as archived)."""
    return jsonable(outcome.items)


def listing(item_id: str, trader_id: str | None = "T1", **columns) -> dict:
    """A live listing (listings snapshot) showing the trader's information, with every Art. 31 element present
    (labelling required and present) and randomly checked on 1 November 2025."""
    return {
        "item_id": item_id,
        "trader_id": trader_id,
        "listed_at": ts("2025-06-01"),
        "shows_trader_info": True,
        "has_economic_operator": True,
        "has_product_identification": True,
        "has_required_labelling": True,
        "labelling_required": True,
        "random_check_at": ts("2025-11-01"),
    } | columns


# ---- v2 datasets: orders, out-of-court disputes, buyers of illegal products, ads ------------------------------


def order(oid: str, kind: str, received: str, **columns) -> dict:
    """An order of an authority; `kind` "ACT" or "INFO" (ACT_AGAINST_ILLEGAL_CONTENT, PROVIDE_INFORMATION).
    Timestamp columns may be given as text."""
    kinds = {"ACT": "ACT_AGAINST_ILLEGAL_CONTENT", "INFO": "PROVIDE_INFORMATION"}
    row = {"order_id": oid, "kind": kinds.get(kind, kind), "member_state": "DE", "received_at": ts(received)}
    return row | {k: ts(v) if isinstance(v, str) and k.endswith("_at") else v for k, v in columns.items()}


def dispute(did: str, closed: str | None, outcome: str = "IN_FAVOUR_OF_RECIPIENT", *,
            implemented: str | None = None, **columns) -> dict:
    """An out-of-court dispute submitted 30 days before `closed` (or on 2025-06-01 when still open)."""
    submitted = ts(closed) - timedelta(days=30) if closed else ts("2025-06-01")
    return {"dispute_id": did, "body": "ODS Body A", "submitted_at": submitted,
            "closed_at": ts(closed) if closed else None, "outcome": outcome,
            "implemented_at": ts(implemented) if implemented else None} | columns


def buyers(item_id: str, aware: str, bought: int | None, reachable: int | None, notified: int | None,
           notified_at: str | None = None, public_notice_at: str | None = None) -> dict:
    """An illegal product the platform became aware of, with its buyers of the six months before."""
    return {"item_id": item_id, "aware_at": ts(aware), "consumers_6m": bought,
            "consumers_6m_with_contact": reachable, "notified": notified,
            "notified_at": ts(notified_at) if notified_at else None,
            "public_notice_at": ts(public_notice_at) if public_notice_at else None}


AD_FIELDS = ("has_content", "has_advertiser", "has_payer", "has_period", "has_targeting_parameters",
             "has_total_reach", "has_reach_per_member_state", "has_sor_information")


def ad(aid: str, first: str, last: str, added: str | None = "first", **columns) -> dict:
    """An untargeted ad paid by its advertiser, added to the repository when first shown (`added="first"`)
    with every Art. 39(2) field present; `added=None`: never in the repository."""
    row = {"ad_id": aid, "first_shown_at": ts(first), "last_shown_at": ts(last),
           "in_repository_at": ts(first) if added == "first" else ts(added) if added else None,
           "targeted": False, "payer_differs": False, "removed_under_39_3": False,
           **dict.fromkeys(AD_FIELDS, True), "has_sor_information": False}
    return row | {k: ts(v) if isinstance(v, str) and k.endswith("_at") else v for k, v in columns.items()}
