"""The v2 datasets of the synthetic marketplace: authority orders, out-of-court disputes, buyers of illegal
products, the advertisement repository and moderation staff.

A platform that mostly keeps its duties: orders are confirmed within a day, given effect before their deadline
and reported within two days; decisions of dispute bodies in the recipient's favour are implemented within ten
days; buyers of illegal products are informed within a week; every ad reaches the repository within hours,
with its fields. Four breaches are planted: an order against illegal content left without effect past its
deadline and never reported (DSA-9), a dispute decision in the recipient's favour never implemented (DSA-21),
the buyers of a recalled product never informed (DSA-32) and an ad that never reached the repository (DSA-39).

The rows are few (tens to hundreds), so they are drawn in Python from a seeded generator, stored as DuckDB
tables and written through the `Writer` in a total order: deterministic for a seed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import duckdb

from . import vocab
from .files import Writer
from .world import World

FOLDERS = ("orders", "odr_disputes", "buyer_notifications", "ads", "moderation_staff")
ACT, INFO = "ACT_AGAINST_ILLEGAL_CONTENT", "PROVIDE_INFORMATION"
RECIPIENT = "IN_FAVOUR_OF_RECIPIENT"
DISPUTE_OUTCOMES = ((RECIPIENT, 30), ("IN_FAVOUR_OF_PROVIDER", 40), ("SETTLED", 15), ("WITHDRAWN", 15))
ODS_BODIES = ("ODS Body 1 (certified in IE)", "ODS Body 2 (certified in DE)", "ODS Body 3 (certified in MT)")
ORDER_CATEGORIES = ((vocab.UNSAFE, 45), (vocab.IP, 20), (vocab.SCAMS, 20), (vocab.CONSUMER, 15))
STAFF_LANGUAGES = (("en", 48.0), ("de", 21.5), ("fr", 17.0), ("it", 11.0), ("es", 11.0), ("pl", 8.5), ("nl", 6.0),
                   ("pt", 4.0), ("sv", 3.5), ("ro", 3.0), ("cs", 2.5), ("el", 2.0))
QUALIFICATION = "Trained content reviewers; escalation to the legal team"

_TABLES = {
    "orders": "order_id VARCHAR, kind VARCHAR, member_state VARCHAR, category VARCHAR, received_at TIMESTAMP,"
              " acknowledged_at TIMESTAMP, deadline_at TIMESTAMP, outcome VARCHAR, effect_given_at TIMESTAMP,"
              " effect_reported_at TIMESTAMP",
    "odr_disputes": "dispute_id VARCHAR, decision_puid VARCHAR, body VARCHAR, submitted_at TIMESTAMP,"
                    " closed_at TIMESTAMP, outcome VARCHAR, implemented_at TIMESTAMP",
    "buyer_notifications": "item_id VARCHAR, aware_at TIMESTAMP, consumers_6m BIGINT,"
                           " consumers_6m_with_contact BIGINT, notified BIGINT, notified_at TIMESTAMP,"
                           " public_notice_at TIMESTAMP",
    "ads": "ad_id VARCHAR, first_shown_at TIMESTAMP, last_shown_at TIMESTAMP, in_repository_at TIMESTAMP,"
           " removed_from_repository_at TIMESTAMP, targeted BOOLEAN, payer_differs BOOLEAN,"
           " removed_under_39_3 BOOLEAN, has_content BOOLEAN, has_advertiser BOOLEAN, has_payer BOOLEAN,"
           " has_period BOOLEAN, has_targeting_parameters BOOLEAN, has_total_reach BOOLEAN,"
           " has_reach_per_member_state BOOLEAN, has_sor_information BOOLEAN",
    "moderation_staff": "month VARCHAR, language VARCHAR, staff DOUBLE, qualification VARCHAR",
}
_KEYS = {"orders": "order_id", "odr_disputes": "dispute_id", "buyer_notifications": "item_id, aware_at",
         "ads": "ad_id", "moderation_staff": "month, language"}


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=round(rng.uniform(low, high) * 3600))


def _weighted(rng: random.Random, pairs: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([v for v, _ in pairs], weights=[w for _, w in pairs])[0]


def _orders(rng: random.Random, world: World) -> tuple[list[tuple], str]:
    """Orders received in the period up to five days before its end, so each is handled by period end; plus
    the planted order: against illegal content, deadline after two days, never given effect nor reported."""
    start = datetime.combine(world.period_start, datetime.min.time())
    span = (world.end - timedelta(days=5) - start).total_seconds()
    weights = tuple(vocab.POPULATION.items())
    rows = []
    for n in range(max(10, world.scale // 1000)):
        received = start + timedelta(seconds=round(rng.uniform(0, span)))
        kind = ACT if rng.random() < 0.6 else INFO
        deadline = received + timedelta(days=rng.choice((2, 5, 7, 14))) if rng.random() < 0.7 else None
        given = received + (_hours(rng, 2, 36) if kind == ACT else _hours(rng, 12, 44))
        outcome, reported = "GIVEN_EFFECT", given + _hours(rng, 1, 40)
        if rng.random() < 0.08:  # refused (e.g. the order lacks a statement of reasons): the authority is told
            outcome, given, reported = "REFUSED", None, received + _hours(rng, 24, 60)
        rows.append((f"ORD-{n + 1:06d}", kind, _weighted(rng, weights),
                     _weighted(rng, ORDER_CATEGORIES) if kind == ACT or rng.random() < 0.3 else None,
                     received, received + _hours(rng, 0.5, 20), deadline, outcome, given, reported))
    planted = "ORD-900001"
    received = start + timedelta(days=3, hours=9)
    rows.append((planted, ACT, "FR", vocab.UNSAFE, received, received + timedelta(hours=5),
                 received + timedelta(days=2), "PENDING", None, None))
    return rows, planted


def _disputes(rng: random.Random, world: World, puids: list[str]) -> tuple[list[tuple], str]:
    """Disputes submitted from 90 days before the period to 25 days before its end, on statements of reasons
    older than that; decisions in the recipient's favour are implemented within ten days (or are still within
    the grace period at period end). Planted: one closed in the recipient's favour on the period's second
    day and never implemented."""
    start = datetime.combine(world.period_start, datetime.min.time())
    first, last = start - timedelta(days=90), world.end - timedelta(days=25)
    rows = []
    for n, puid in enumerate(puids):
        submitted = first + timedelta(seconds=round(rng.uniform(0, (last - first).total_seconds())))
        closed = submitted + _hours(rng, 15 * 24, 75 * 24)
        outcome, implemented = _weighted(rng, DISPUTE_OUTCOMES), None
        if closed >= world.end:
            closed, outcome = None, "PENDING"
        elif outcome == RECIPIENT:
            implemented = closed + _hours(rng, 24, 10 * 24)
            implemented = implemented if implemented < world.end else None
        rows.append((f"ODS-{n + 1:05d}", puid, rng.choice(ODS_BODIES), submitted, closed, outcome, implemented))
    planted = "ODS-90001"
    closed = start + timedelta(days=1, hours=10)
    rows.append((planted, puids[0] if puids else None, ODS_BODIES[0], closed - timedelta(days=45), closed,
                 RECIPIENT, None))
    return rows, planted


def _buyers(rng: random.Random, world: World, illegal: list[tuple[str, datetime]]) -> tuple[list[tuple], str]:
    """Unsafe products removed as illegal in the period (up to 20 days before its end): their buyers with
    contact details are told within five days, the others by a public notice within six. Planted: the first
    one, a recalled product whose 240 buyers were never informed."""
    rows = []
    for n, (item_id, aware) in enumerate(illegal):
        bought = rng.randint(5, 400)
        reachable = bought if rng.random() < 0.3 else round(bought * rng.uniform(0.75, 0.95))
        notified_at = aware + _hours(rng, 6, 5 * 24)
        notice_at = aware + _hours(rng, 12, 6 * 24) if reachable < bought else None
        if n == 0:
            bought, reachable, notified_at, notice_at = 240, 210, None, None
        rows.append((item_id, aware, bought, reachable, 0 if n == 0 else reachable, notified_at, notice_at))
    return rows, illegal[0][0]


def _ads(rng: random.Random, world: World) -> tuple[list[tuple], str]:
    """Ads shown in the period, and ads shown only in the 12 months before it (still held in the repository),
    each added to it within six hours of being first shown. Planted: one ad shown in the period's second week
    that never reached the repository."""
    start = datetime.combine(world.period_start, datetime.min.time())
    rows = []
    n = max(40, world.scale // 100)
    for k in range(2 * n):
        if k < n:  # shown in the period (some from before it)
            first = start - timedelta(days=30) + timedelta(seconds=round(rng.uniform(
                0, (world.end - timedelta(days=2) - start + timedelta(days=30)).total_seconds())))
            last = min(max(first + _hours(rng, 24, 45 * 24), start + _hours(rng, 1, 10 * 24)),
                       world.end - timedelta(minutes=1))
        else:  # shown only in the 12 months before the period
            first = start - timedelta(days=rng.uniform(40, 360))
            last = min(first + _hours(rng, 24, 30 * 24), start - timedelta(days=1))
        targeted, payer_differs, removed = rng.random() < 0.6, rng.random() < 0.2, rng.random() < 0.02
        rows.append((f"AD-{k + 1:07d}", first, last, first + _hours(rng, 0.1, 6), None, targeted, payer_differs,
                     removed, not removed, not removed, payer_differs and not removed, True, targeted, True,
                     targeted, removed))
    planted = "AD-9000001"
    first = start + timedelta(days=7, hours=8)
    rows.append((planted, first, first + timedelta(days=5), None, None, True, False, False,
                 *([False] * 8)))
    return rows, planted


def _staff(rng: random.Random, world: World) -> list[tuple]:
    """Full-time equivalents per official language and month of the period."""
    months = sorted({(world.period_start + timedelta(days=d)).strftime("%Y-%m") for d in range(world.days)})
    scale = max(1.0, world.scale / 200_000)
    return [(month, language, round(fte * scale * rng.uniform(0.95, 1.05), 1), QUALIFICATION)
            for month in months for language, fte in STAFF_LANGUAGES]


def build(con: duckdb.DuckDBPyConnection, world: World) -> dict[str, object]:
    """Create the five tables (after `sor.build`: ids of statements of reasons are reused); returns what was
    planted in them."""
    rng = random.Random(f"authorities-{world.seed}")  # a str seed is hashed the same way on every run
    puids = [r[0] for r in con.execute(
        "SELECT puid(seq) FROM sor_base WHERE copy_no = 0 AND app_ts < ps()::TIMESTAMP - INTERVAL 90 DAY"
        " ORDER BY hash(seq, seed(), 'odr'), seq LIMIT $n", {"n": max(8, world.scale // 2000)}).fetchall()]
    illegal = con.execute(
        "SELECT item_id, app_ts FROM sor_base WHERE copy_no = 0 AND ground_illegal AND category = $unsafe"
        " AND app_ts >= ps()::TIMESTAMP AND app_ts < pe_end() - INTERVAL 20 DAY"
        " ORDER BY hash(seq, seed(), 'recall'), seq LIMIT $n",
        {"unsafe": vocab.UNSAFE, "n": max(4, world.scale // 5000)}).fetchall()
    if not illegal:  # no unsafe product removed early enough in a tiny world: the planted one stands alone
        illegal = [("I-9900000001", datetime.combine(world.period_start, datetime.min.time()) + timedelta(days=2))]
    orders, order = _orders(rng, world)
    disputes, dispute = _disputes(rng, world, puids)
    notifications, item = _buyers(rng, world, illegal)
    ads, ad = _ads(rng, world)
    for name, rows in (("orders", orders), ("odr_disputes", disputes), ("buyer_notifications", notifications),
                       ("ads", ads), ("moderation_staff", _staff(rng, world))):
        con.execute(f"CREATE TABLE {name} ({_TABLES[name]})")
        marks = ", ".join("?" * len(rows[0]))
        con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)  # noqa: S608 (names from this module)
    return {"order_left_without_effect_unreported": order, "odr_decision_not_implemented": dispute,
            "buyers_never_informed_item": item, "ad_missing_from_repository": ad}


def write(con: duckdb.DuckDBPyConnection, writer: Writer) -> None:
    """orders and buyer notifications: csv; disputes: jsonl.gz (ISO 8601 'Z'); ads: parquet; staff: csv."""
    times = {"orders": ("received_at", "acknowledged_at", "deadline_at", "effect_given_at", "effect_reported_at"),
             "buyer_notifications": ("aware_at", "notified_at", "public_notice_at"),
             "odr_disputes": ("submitted_at", "closed_at", "implemented_at")}
    files = {"orders": "orders/orders.csv", "odr_disputes": "odr_disputes/odr-disputes.jsonl.gz",
             "buyer_notifications": "buyer_notifications/buyer-notifications.csv", "ads": "ads/ads.parquet",
             "moderation_staff": "moderation_staff/moderation-staff.csv"}
    for name, path in files.items():
        fmt = "iso_ts" if path.endswith(".jsonl.gz") else "fmt_ts"
        replace = ", ".join(f"{fmt}({c}) AS {c}" for c in times.get(name, ()))
        select = f"* REPLACE ({replace})" if replace else "*"
        writer.copy(f"SELECT {select} FROM {name} ORDER BY {_KEYS[name]}", None, path)  # noqa: S608 (constants)
