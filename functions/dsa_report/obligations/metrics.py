"""The metrics layer of contracts/obligations.md: named numbers over one period, each with a unit.

Metrics are computed lazily by group (one SQL scan per table), so a KRI naming one metric costs one group,
and `all()` costs one scan per table. A metric the data cannot give is `None` with a reason that names the
missing dataset or column, never 0. A computation shared with an obligation (repeat infringers, hidden-link
survival, the notice backlog) is defined once in `facts` and used from here and from the rule. Metrics know
no obligation id: the few parameters they depend on arrive as `settings` (see `evaluation.metric_settings`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ..engine.query import Query
from ..ingest.errors import run_failure
from ..ingest.loaded import LoadedData
from ..ingest.loader import EU_MEMBER_STATES
from . import facts

Facts = dict[str, Any]


@dataclass(frozen=True)
class Null:
    """A metric value the data cannot give, and why."""

    reason: str


@dataclass(frozen=True)
class MetricDef:
    name: str
    unit: str  # count | share | hours | days | recipients
    group: str  # the scan that computes it (a function of `_GROUPS`)
    needs: tuple[str, ...]  # "dataset.column" the metric reads


class UnknownMetric(KeyError):
    """A name that is not in the metrics layer (e.g. a KRI with a typo)."""


class MetricError(RuntimeError):
    """The computation of a metric failed (as opposed to: the data cannot give it)."""


_SOR = "statements_of_reasons"
_N, _C, _T, _E, _L = "notices", "complaints", "traders", "enforcement_actions", "listing_events"


def _cols(dataset: str, *columns: str) -> tuple[str, ...]:
    return tuple(f"{dataset}.{c}" for c in columns)


METRICS: tuple[MetricDef, ...] = (
    MetricDef("sor_count", "count", "sor", _cols(_SOR, "application_date")),
    MetricDef("sor_submission_delay_p50_days", "days", "sor", _cols(_SOR, "application_date", "created_at")),
    MetricDef("sor_submission_delay_p95_days", "days", "sor", _cols(_SOR, "application_date", "created_at")),
    MetricDef("sor_automated_detection_share", "share", "sor", _cols(_SOR, "automated_detection")),
    MetricDef("sor_fully_automated_share", "share", "sor", _cols(_SOR, "automated_decision")),
    MetricDef("sor_illegal_ground_share", "share", "sor", _cols(_SOR, "decision_ground")),
    MetricDef("notice_count", "count", "notices", _cols(_N, "received_at")),
    MetricDef("notice_median_decision_hours", "hours", "notices", _cols(_N, "received_at", "decided_at")),
    MetricDef("trusted_flagger_median_decision_hours", "hours", "notices",
              _cols(_N, "received_at", "decided_at", "source_type")),
    MetricDef("article16_median_decision_hours", "hours", "notices",
              _cols(_N, "received_at", "decided_at", "source_type")),
    MetricDef("notice_ack_within_24h_share", "share", "notices", _cols(_N, "received_at", "acknowledged_at")),
    MetricDef("notice_backlog_count", "count", "notices", _cols(_N, "received_at", "decided_at")),
    MetricDef("complaint_count", "count", "complaints", _cols(_C, "received_at")),
    MetricDef("complaint_median_resolution_days", "days", "complaints",
              _cols(_C, "received_at", "decided_at")),
    MetricDef("complaint_reversal_rate", "share", "complaints", _cols(_C, "received_at", "outcome")),
    MetricDef("complaint_solely_automated_count", "count", "complaints",
              _cols(_C, "received_at", "decided_solely_automated")),
    MetricDef("repeat_infringers_unsuspended", "count", "repeat",
              _cols(_SOR, "trader_id", "decision_ground", "application_date")
              + _cols(_E, "trader_id", "action", "reason", "occurred_at")),
    MetricDef("recidivism_rate", "share", "recidivism",
              _cols(_SOR, "trader_id", "decision_ground", "application_date")
              + _cols(_E, "trader_id", "action", "occurred_at")),
    MetricDef("kybc_complete_share", "share", "traders",
              _cols(_T, "status", "live_listings", *facts.KYBC_ELEMENTS)),
    MetricDef("kybc_verified_share", "share", "traders", _cols(_T, "status", "kyc_verified_at")),
    MetricDef("reappearance_rate", "share", "reappearance",
              _cols(_L, "item_id", "event", "occurred_at", "reappearance_of")),
    MetricDef("hidden_link_median_survival_days", "days", "hidden_links",
              _cols(_L, "item_id", "event", "occurred_at", "hidden_link")),
    MetricDef("proactive_control_rate", "share", "listings", _cols(_L, "event", "occurred_at", "detection")),
    MetricDef("pre_listing_interception_rate", "share", "listings", _cols(_L, "event", "occurred_at")),
    MetricDef("avg_monthly_active_recipients_6m", "recipients", "recipients",
              _cols("active_recipients", "month", "member_state", "active_recipients")),
)
BY_NAME = {m.name: m for m in METRICS}


def share(part: int, whole: int, what: str) -> float | Null:
    return part / whole if whole else Null(f"no {what} in the period")


@dataclass(frozen=True)
class Settings:
    """The parameters some metrics depend on, as values (the evaluation takes them from the obligations)."""

    backlog_days: int  # notice_backlog_count: undecided and older than this at period end
    repeat_infringers: dict  # repeat_infringers_unsuspended: min_items, window_days, grace_days


class MetricBook:
    """Lazy, cached metrics of one period, computed through the query handle `q`."""

    def __init__(self, data: LoadedData, q: Query, settings: Settings):
        self.data = data
        self.q = q
        self.period = q.period
        self.settings = settings
        self._facts: dict[str, Facts] = {}
        self._errors: dict[str, Exception] = {}

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return self.q.bounds

    def query(self, sql: str, params: list | dict | None = None) -> list[tuple]:
        return self.q.query(sql, params)

    def facts(self, group: str) -> Facts:
        """The raw results of one scan (metrics and the counts rules need), computed once; a scan that
        failed raises the same error again."""
        if group in self._errors:
            raise self._errors[group]
        if group not in self._facts:
            try:
                self._facts[group] = _GROUPS[group](self)
            except Exception as exc:
                self._errors[group] = exc
                raise
        return self._facts[group]

    def missing_reason(self, definition: MetricDef) -> str | None:
        wanted: dict[str, list[str]] = {}
        for need in definition.needs:
            dataset, _, column = need.partition(".")
            wanted.setdefault(dataset, []).append(column)
        missing = [m for ds, cols in wanted.items() for m in self.data.missing(ds, cols)]
        return "missing " + ", ".join(missing) if missing else None

    def get(self, name: str) -> dict:
        """{"value", "unit"} plus "reason" when the value is None. Raises UnknownMetric for a bad name."""
        definition = BY_NAME.get(name)
        if definition is None:
            raise UnknownMetric(name)
        reason = self.missing_reason(definition)
        if reason is not None:
            return {"value": None, "unit": definition.unit, "reason": reason}
        try:
            value = self.facts(definition.group)[name]
        except Exception as exc:  # a failing scan must not take the other metrics with it
            if run_failure(exc):  # but running out of memory or disk fails the run
                raise
            value = Null(f"could not be computed: {type(exc).__name__}: {exc}")
        if isinstance(value, Null):
            return {"value": None, "unit": definition.unit, "reason": value.reason}
        if value is None:
            return {"value": None, "unit": definition.unit, "reason": "no value in the period"}
        return {"value": value, "unit": definition.unit}

    def value(self, name: str) -> float | int | None:
        """The bare value; a metric whose computation failed raises MetricError (a rule then gives ERROR)."""
        result = self.get(name)
        error = self._errors.get(BY_NAME[name].group)
        if error is not None:
            raise MetricError(f"metric {name} could not be computed") from error
        return result["value"]

    def reason(self, name: str) -> str | None:
        return self.get(name).get("reason")

    def all(self) -> dict[str, dict]:
        return {m.name: self.get(m.name) for m in METRICS}


# ---- groups: one scan each ----------------------------------------------------------------------------


# Art. 24(5) submission delay in calendar days, date(created_at) - date(application_date), shared with the rule
# DSA-24.5: a SoR not submitted (created_at null) counts with the delay reached at `$cutoff`, the later of period
# end and the latest created_at of the platform's SoRs; -1 day is time-zone skew between a local decision date
# and a UTC timestamp, counted as 0 (the loader quarantines anything below -1).
SOR_DELAY_DAYS = ("greatest(date_diff('day', CAST(application_date AS DATE), "
                  "CAST(coalesce(created_at, $cutoff) AS DATE)), 0)")


def _sor(book: MetricBook) -> Facts:
    start, end = book.bounds
    (cutoff,), = book.query("SELECT greatest(max(created_at), $end) FROM sor", {"end": end})
    n, unsubmitted, quantiles, auto, auto_known, fully, fully_known, illegal = book.query(
        f"""
        WITH s AS (
            SELECT *, {SOR_DELAY_DAYS} AS delay
            FROM sor WHERE application_date >= $start AND application_date < $end)
        SELECT count(*), count(*) FILTER (WHERE created_at IS NULL), quantile_cont(delay, [0.5, 0.95]),
               count(*) FILTER (WHERE automated_detection), count(automated_detection),
               count(*) FILTER (WHERE automated_decision = $fully), count(automated_decision),
               count(*) FILTER (WHERE decision_ground = $illegal)
        FROM s
        """,  # noqa: S608 - SOR_DELAY_DAYS is this module's constant; every value is bound
        {"start": start, "end": end, "cutoff": cutoff, "fully": "AUTOMATED_DECISION_FULLY",
         "illegal": "DECISION_GROUND_ILLEGAL_CONTENT"},
    )[0]
    p50, p95 = quantiles or (None, None)
    no_delay = Null("no statement of reasons in the period")
    return {
        "sor_count": n,
        "sor_submission_delay_p50_days": p50 if n else no_delay,
        "sor_submission_delay_p95_days": p95 if n else no_delay,
        "sor_automated_detection_share": share(auto, auto_known, "SoR with automated_detection"),
        "sor_fully_automated_share": share(fully, fully_known, "SoR with automated_decision"),
        "sor_illegal_ground_share": share(illegal, n, "statement of reasons"),
        "sor_delay_cutoff": cutoff, "sor_unsubmitted": unsubmitted,
    }


def _notices(book: MetricBook) -> Facts:
    """Decision times are censored at period end (obligations.md, "Censored durations"): a notice undecided
    then counts with its age, so the medians are lower bounds and exist whenever a notice was received."""
    start, end = book.bounds
    row = book.query(
        f"""
        WITH n AS (
            SELECT source_type, {facts.censored_hours("received_at", "decided_at")} AS hours,
                   {facts.still_open("decided_at")} AS open
            FROM notices WHERE received_at >= $start AND received_at < $end)
        SELECT count(*), count(*) FILTER (WHERE open), quantile_cont(hours, 0.5),
               count(*) FILTER (WHERE source_type = $tf), quantile_cont(hours, 0.5) FILTER (WHERE source_type = $tf),
               count(*) FILTER (WHERE source_type = $a16),
               quantile_cont(hours, 0.5) FILTER (WHERE source_type = $a16)
        FROM n
        """,  # noqa: S608 - fragments from code
        {"start": start, "end": end, "period_end": end, "tf": "SOURCE_TRUSTED_FLAGGER", "a16": "SOURCE_ARTICLE_16"},
    )[0]
    n, undecided, median, tf_n, tf_median, a16_n, a16_median = row
    owed, acked, _ = facts.ack_counts(book.q, 24)
    backlog_days = book.settings.backlog_days
    return {
        "notice_count": n,
        "notice_median_decision_hours": median if n else Null("no notice received in the period"),
        "trusted_flagger_median_decision_hours":
            tf_median if tf_n else Null("no trusted-flagger notice received in the period"),
        "article16_median_decision_hours":
            a16_median if a16_n else Null("no Article 16 notice received in the period"),
        "notice_ack_within_24h_share": share(acked, owed, "notice owed a confirmation of receipt"),
        "notice_backlog_count": len(facts.backlog(book.q, backlog_days)),
        "undecided": undecided, "trusted_flagger_notices": tf_n, "article16_notices": a16_n,
    }


def _complaints(book: MetricBook) -> Facts:
    """Resolution days are hours/24, censored at period end like the notices' decision hours."""
    start, end = book.bounds
    n, undecided, median_hours, reversed_, outcome_known, automated = book.query(
        f"""
        WITH c AS (
            SELECT *, {facts.censored_hours("received_at", "decided_at")} AS hours,
                   {facts.still_open("decided_at")} AS open
            FROM complaints WHERE received_at >= $start AND received_at < $end)
        SELECT count(*), count(*) FILTER (WHERE open), quantile_cont(hours, 0.5),
               count(*) FILTER (WHERE outcome IN ($reversed, $partial)),
               count(*) FILTER (WHERE outcome IN ($upheld, $reversed, $partial)),
               count(*) FILTER (WHERE decided_solely_automated)
        FROM c
        """,  # noqa: S608 - fragments from code
        {"start": start, "end": end, "period_end": end, "upheld": "DECISION_UPHELD",
         "reversed": "DECISION_REVERSED", "partial": "DECISION_PARTIALLY_REVERSED"},
    )[0]
    return {
        "complaint_count": n,
        "complaint_median_resolution_days":
            median_hours / 24 if n else Null("no complaint received in the period"),
        "complaint_reversal_rate": share(reversed_, outcome_known, "decided complaint"),
        "complaint_solely_automated_count": automated,
        "undecided": undecided,
    }


def _repeat(book: MetricBook) -> Facts:
    states = facts.repeat_infringer_states(book.q, book.settings.repeat_infringers,
                                           **facts.repeat_infringer_inputs(book.data))
    return {"repeat_infringers_unsuspended": sum(1 for s in states if s["state"] == "unsuspended")}


def _recidivism(book: MetricBook) -> Facts:
    start, end = book.bounds
    reinstated, relapsed = book.query(
        """
        WITH r AS (SELECT trader_id, occurred_at FROM enforcement_actions
                   WHERE action = $reinstatement AND occurred_at >= $start AND occurred_at < $end)
        SELECT count(DISTINCT r.trader_id), count(DISTINCT s.trader_id)
        FROM r LEFT JOIN sor s
          ON s.trader_id = r.trader_id AND s.decision_ground = $illegal AND s.application_date > r.occurred_at
         AND CAST(s.application_date AS DATE) <= CAST(r.occurred_at AS DATE) + $days
        """,
        {"start": start, "end": end, "reinstatement": "REINSTATEMENT",
         "illegal": "DECISION_GROUND_ILLEGAL_CONTENT", "days": 90},
    )[0]
    return {"recidivism_rate": share(relapsed, reinstated, "trader reinstated")}


def _traders(book: MetricBook) -> Facts:
    active, verified = book.query(
        "SELECT count(*), count(kyc_verified_at) FROM traders WHERE status = $active", {"active": "ACTIVE"},
    )[0]
    scope, _ = facts.kybc_scope(book.q)  # live_listings null counts as live
    complete = scope - len(facts.kybc_gaps(book.q)) if scope else 0
    return {
        "kybc_complete_share": share(complete, scope, "ACTIVE trader with live listings"),
        "kybc_verified_share": share(verified, active, "ACTIVE trader"),
        "traders_in_scope": scope, "active_traders": active,
    }


def _listings(book: MetricBook) -> Facts:
    start, end = book.bounds
    removed_events, blocked, proactive, removed_items = book.query(
        """
        SELECT count(*) FILTER (WHERE event = $removed), count(*) FILTER (WHERE event = $blocked),
               count(*) FILTER (WHERE detection = $proactive),
               count(DISTINCT item_id) FILTER (WHERE event = $removed)
        FROM listing_events
        WHERE event IN ($removed, $blocked) AND occurred_at >= $start AND occurred_at < $end
        """,
        {"start": start, "end": end, "removed": "REMOVED", "blocked": "BLOCKED_PRE_LISTING",
         "proactive": "PROACTIVE"},
    )[0]
    what = "REMOVED or BLOCKED_PRE_LISTING event"
    return {
        "proactive_control_rate": share(proactive, removed_events + blocked, what),
        "pre_listing_interception_rate": share(blocked, removed_events + blocked, what),
        "removed_items": removed_items, "removal_events": removed_events + blocked,
    }


def _reappearance(book: MetricBook) -> Facts:
    removed = book.facts("listings")["removed_items"]
    return {"reappearance_rate": share(len(facts.reappeared_items(book.q)), removed, "item removed")}


def _hidden_links(book: MetricBook) -> Facts:
    """Censored: items still online at period end count with their age then (a lower bound)."""
    stays = facts.hidden_link_items(book.q)
    survival = [s.survival_days for s in stays if s.survival_days is not None]
    value = quantile_cont(survival, 0.5) if survival else Null(
        "no LISTED or REAPPEARED event before the removal of the hidden-link items removed in the period"
        if stays else "no hidden-link item was removed in the period or online at period end")
    return {"hidden_link_median_survival_days": value}


def quantile_cont(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks, exactly as SQL quantile_cont."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def last_months(end: date, n: int = 6) -> list[str]:
    """The `n` calendar months ending with the month of `end`, oldest first, as YYYY-MM."""
    months, day = [], end.replace(day=1)
    for _ in range(n):
        months.append(f"{day.year:04d}-{day.month:02d}")
        day = (day - timedelta(days=1)).replace(day=1)
    return months[::-1]


def _recipients(book: MetricBook) -> Facts:
    """EU-27 only: the loader leaves other countries' rows out (counted as non_eu_rows in the data quality);
    the filter here keeps the metric to its definition whatever loaded the table."""
    months = last_months(book.period.end)
    totals = dict(book.query(
        "SELECT month, sum(active_recipients) FROM active_recipients "
        "WHERE month >= $first AND month <= $last AND list_contains($eu, member_state) GROUP BY month",
        {"first": months[0], "last": months[-1], "eu": sorted(EU_MEMBER_STATES)},
    ))
    absent = [m for m in months if totals.get(m) is None]
    value: float | Null = (
        Null("no active-recipient figures of EU Member States for " + ", ".join(absent)) if absent
        else sum(totals[m] for m in months) / len(months)
    )
    return {"avg_monthly_active_recipients_6m": value}


_GROUPS: dict[str, Callable[[MetricBook], Facts]] = {
    "sor": _sor, "notices": _notices, "complaints": _complaints, "repeat": _repeat,
    "recidivism": _recidivism, "traders": _traders, "listings": _listings, "reappearance": _reappearance,
    "hidden_links": _hidden_links, "recipients": _recipients,
}
