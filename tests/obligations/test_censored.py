"""Censored durations: one definition in SQL (obligations.facts.censored_hours) agrees with its Python
reference on random cases, and a backlog never makes a median look better than closing the cases would."""

from datetime import datetime, timedelta
from statistics import quantiles

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from dsa_report.obligations.facts import censored_duration, censored_hours, still_open

PERIOD_END = datetime(2026, 1, 1)
START = datetime(2025, 7, 1)

cases = st.lists(
    st.tuples(st.integers(0, 183 * 24 - 1), st.one_of(st.none(), st.integers(0, 400 * 24))),
    min_size=1, max_size=40,
)


def median(values: list[float]) -> float:
    return quantiles(values, n=2, method="inclusive")[0] if len(values) > 1 else values[0]


def sql_median(rows: list[tuple[datetime, datetime | None]]) -> tuple[float, int]:
    con = duckdb.connect()
    con.execute("CREATE TABLE c (received_at TIMESTAMP, decided_at TIMESTAMP)")
    con.executemany("INSERT INTO c VALUES (?, ?)", rows)
    duration, open_case = censored_hours("received_at", "decided_at"), still_open("decided_at")
    sql = f"SELECT quantile_cont({duration}, 0.5), count(*) FILTER (WHERE {open_case}) FROM c"  # noqa: S608
    return con.execute(sql, {"period_end": PERIOD_END}).fetchone()


@settings(max_examples=60, deadline=None)
@given(cases)
def test_sql_agrees_with_the_reference(raw):
    rows = [(START + timedelta(hours=r), None if d is None else START + timedelta(hours=r + d)) for r, d in raw]
    got, open_count = sql_median(rows)
    expected = median([censored_duration(r, d, PERIOD_END) for r, d in rows])
    assert abs(got - expected) < 1e-6
    assert open_count == sum(1 for _, d in rows if d is None or d >= PERIOD_END)


@settings(max_examples=60, deadline=None)
@given(cases)
def test_closing_the_open_cases_never_lowers_the_median(raw):
    rows = [(START + timedelta(hours=r), None if d is None else START + timedelta(hours=r + d)) for r, d in raw]
    censored, _ = sql_median(rows)
    closed_later = [(r, d if d is not None and d < PERIOD_END else PERIOD_END + timedelta(days=30))
                    for r, d in rows]
    real = median([(d - r).total_seconds() / 3600 for r, d in closed_later])
    assert censored <= real + 1e-9


def test_an_open_case_counts_with_its_age_at_period_end():
    assert censored_duration(datetime(2025, 12, 31), None, PERIOD_END) == 24
    assert censored_duration(datetime(2025, 12, 31), datetime(2026, 3, 1), PERIOD_END) == 24
    assert censored_duration(datetime(2025, 12, 31), datetime(2025, 12, 31, 6), PERIOD_END) == 6
