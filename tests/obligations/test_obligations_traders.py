"""Art. 23(1) repeat infringers and penalty policy, Art. 30 traceability (KYBC).

The tests named `test_v2_...` pin a change of contract v2 ("Changes in v2", items 11 and 22, and the
"DSA-23.1-REPEAT-INFRINGER-SUSPENSION in detail (v2)" section): each would fail on the v1 rule.
"""

from datetime import date, timedelta

import pytest

from dsa_report.obligations.evaluation import compute_metrics
from tables import H2, action, items, make_data, outcome, sor, trader

REPEAT = "DSA-23.1-REPEAT-INFRINGER-SUSPENSION"


def illegal_items(trader_id: str, days: list[date], prefix: str = "I") -> list[dict]:
    """One illegal SoR per item, dated at noon on each day."""
    return [
        sor(f"{trader_id}-{prefix}{n}", f"{d} 12:00", trader_id=trader_id, item_id=f"{trader_id}-{prefix}{n}")
        for n, d in enumerate(days)
    ]


def window_ending(t_star: date) -> list[date]:
    """Three items on t*-89, t*-40 and t*: exactly within 90 days, so the threshold is reached on t*."""
    return [t_star - timedelta(days=89), t_star - timedelta(days=40), t_star]


def measure(aid: str, trader_id: str, kind: str, at: str, reason: str = "ILLEGAL_CONTENT", **columns) -> dict:
    """An enforcement action with a reason (an Art. 23(1) one unless stated)."""
    return action(aid, trader_id, kind, at, reason=reason, **columns)


def with_manifest(data, values: dict[str, bool | None]):
    """The optional SoR column `manifestly_illegal` (contract v2) in the data, with these values by
    platform_uid (null for the others); added to the table while spec.py does not load it yet."""
    data.con.execute("ALTER TABLE sor ADD COLUMN IF NOT EXISTS manifestly_illegal BOOLEAN")
    for uid, value in values.items():
        data.con.execute("UPDATE sor SET manifestly_illegal = ? WHERE platform_uid = ?", [value, uid])
    info = data.datasets["statements_of_reasons"]
    data.datasets["statements_of_reasons"] = type(info)(info.files, info.rows, info.columns | {"manifestly_illegal"})
    return data


def repeat(sors: list[dict], actions: list[dict], *, complaints: list[dict] | None = None,
           columns_absent: dict | None = None, manifest: dict | None = None, **params):
    """The obligation on these rows; an unrelated warning keeps enforcement_actions present."""
    actions = [*actions, action("W0", "T-other", "WARNING", "2025-01-01")]
    tables = {"statements_of_reasons": sors, "enforcement_actions": actions, "complaints": complaints or []}
    data = make_data(tables, columns_absent=columns_absent)
    return outcome(REPEAT, data if manifest is None else with_manifest(data, manifest), **params)


def states(result) -> list[tuple]:
    """(trader, state, carried over) of the offending episodes, in evidence order."""
    return [(s["trader_id"], s["state"], s["carried_over"]) for s in items(result)]


T_STAR = date(2025, 9, 10)
SPRING = date(2025, 4, 3)  # a threshold date whose deadline (17 April) falls before H2


def test_suspension_on_the_last_day_of_grace_is_compliant():
    result = repeat(
        illegal_items("T1", window_ending(T_STAR)),
        [measure("A1", "T1", "SUSPENSION", f"{T_STAR + timedelta(days=14)} 23:00")],
    )
    assert result.status == "PASS"
    assert result.metric["name"] == "repeat_infringers_unsuspended" and result.metric["value"] == 0
    assert result.evidence["count"] == 0 and result.evidence["states"]["compliant"] == 1


def test_suspension_one_day_after_grace_is_late():
    late = T_STAR + timedelta(days=15)
    result = repeat(
        illegal_items("T1", window_ending(T_STAR)), [measure("A1", "T1", "SUSPENSION", f"{late} 08:00")]
    )
    assert result.status == "FAIL"
    assert result.metric["value"] == 0  # the metric counts the unsuspended only
    assert result.evidence["sample"] == [
        {
            "trader_id": "T1",
            "illegal_items": 3,
            "threshold_date": T_STAR.isoformat(),
            "deadline": (T_STAR + timedelta(days=14)).isoformat(),
            "first_action": late.isoformat(),
            "state": "late",
            "carried_over": False,
        }
    ]


def test_never_suspended_trader_fails_and_is_counted_by_the_metric():
    data = make_data(
        {
            "statements_of_reasons": illegal_items("T1", window_ending(T_STAR)),
            "enforcement_actions": [action("W1", "T1", "WARNING", "2025-09-11")],  # no reason: not Art. 23(1)
        }
    )
    result = outcome(REPEAT, data)
    assert result.status == "FAIL"
    assert result.metric["value"] == 1
    assert result.evidence["sample"][0]["state"] == "unsuspended"
    assert result.evidence["sample"][0]["first_action"] is None
    assert compute_metrics(data, H2)["repeat_infringers_unsuspended"]["value"] == 1


def test_termination_on_t_star_is_compliant():
    result = repeat(illegal_items("T1", window_ending(T_STAR)),
                    [measure("A1", "T1", "TERMINATION", f"{T_STAR} 18:00", "HIDDEN_LINKS")])
    assert result.status == "PASS" and result.evidence["states"]["compliant"] == 1


def test_items_exactly_90_days_apart_are_outside_the_window():
    days = [T_STAR - timedelta(days=90), T_STAR - timedelta(days=40), T_STAR]
    result = repeat(illegal_items("T1", days), [])
    assert result.status == "NOT_APPLICABLE"  # never three items within 90 days
    assert result.evidence["count"] == 0


def test_threshold_date_is_the_first_day_the_count_is_reached():
    # a fourth item later does not move t*; history before the period counts
    days = [date(2025, 6, 20), date(2025, 6, 25), date(2025, 7, 2), date(2025, 8, 1)]
    result = repeat(illegal_items("T1", days), [measure("A1", "T1", "SUSPENSION", "2025-07-16")])
    assert result.status == "PASS"
    result = repeat(illegal_items("T1", days), [measure("A1", "T1", "SUSPENSION", "2025-07-17")])
    assert result.evidence["sample"][0]["threshold_date"] == "2025-07-02"
    assert result.evidence["sample"][0]["state"] == "late"


def test_distinct_items_not_statements():
    # three SoRs about the same item are one item; without item_id the platform_uid is the item
    same_item = [sor(f"S{n}", f"2025-08-0{n + 1}", trader_id="T1", item_id="I1") for n in range(3)]
    assert repeat(same_item, []).status == "NOT_APPLICABLE"
    no_item_id = [sor(f"S{n}", f"2025-08-0{n + 1}", trader_id="T1") for n in range(3)]
    assert repeat(no_item_id, []).status == "FAIL"


def test_incompatible_ground_does_not_count():
    rows = [
        sor(f"S{n}", f"2025-08-0{n + 1}", ground="INCOMPATIBLE", trader_id="T1", item_id=f"I{n}")
        for n in range(3)
    ]
    assert repeat(rows, []).status == "NOT_APPLICABLE"


def test_deadline_on_period_end_is_judged_one_day_later_pending():
    edge = H2.end - timedelta(days=14)  # 2025-12-17: deadline 31 December
    in_scope = repeat(illegal_items("T1", window_ending(edge)), [])
    assert in_scope.status == "FAIL"
    assert in_scope.evidence["sample"][0]["state"] == "unsuspended"
    pending = repeat(illegal_items("T1", window_ending(edge + timedelta(days=1))), [])
    assert pending.status == "NOT_APPLICABLE"  # nothing judged; the episode is listed apart, not failing
    assert pending.evidence["count"] == 0 and pending.evidence["sample"] == []
    assert pending.evidence["pending"]["count"] == 1 and pending.evidence["pending"]["sample"][0]["state"] == "pending"
    assert pending.evidence["states"]["pending"] == 1 and pending.metric["value"] == 0


def test_an_episode_already_acted_on_but_due_after_period_end_is_pending():
    t_star = H2.end - timedelta(days=5)
    result = repeat(illegal_items("T1", window_ending(t_star)), [measure("A1", "T1", "SUSPENSION", f"{t_star} 18:00")])
    assert result.status == "NOT_APPLICABLE"
    assert result.evidence["states"] == {"compliant": 0, "warned": 0, "late": 0, "unsuspended": 0, "pending": 1}
    assert result.evidence["pending"]["sample"] == [
        {
            "trader_id": "T1",
            "illegal_items": 3,
            "threshold_date": t_star.isoformat(),
            "deadline": (t_star + timedelta(days=14)).isoformat(),
            "first_action": t_star.isoformat(),
            "state": "pending",
            "carried_over": False,
        }
    ]


def test_pending_episodes_do_not_turn_a_pass_into_a_fail():
    rows = illegal_items("T1", window_ending(T_STAR)) + illegal_items("T2", window_ending(date(2025, 12, 30)))
    result = repeat(rows, [measure("A1", "T1", "SUSPENSION", f"{T_STAR} 12:00")])
    assert result.status == "PASS"
    assert items(result) == [] and [s["trader_id"] for s in result.evidence["pending"]["sample"]] == ["T2"]


def test_parameters_are_overridable():
    days = [T_STAR - timedelta(days=10), T_STAR]
    assert repeat(illegal_items("T1", days), []).status == "NOT_APPLICABLE"
    result = repeat(illegal_items("T1", days), [], min_items=2)
    assert result.status == "FAIL" and result.evidence["sample"][0]["illegal_items"] == 2


def test_missing_trader_column_is_insufficient_data():
    data = make_data(
        {
            "statements_of_reasons": illegal_items("T1", window_ending(T_STAR)),
            "enforcement_actions": [action("A1", "T1", "WARNING", "2025-01-01")],
        },
        columns_absent={"statements_of_reasons": {"trader_id"}},
    )
    result = outcome(REPEAT, data)
    assert result.status == "INSUFFICIENT_DATA"
    assert result.missing == ["column statements_of_reasons.trader_id"]
    assert "statements_of_reasons.trader_id" in result.message


def test_missing_enforcement_actions_is_insufficient_data():
    result = outcome(REPEAT, make_data({"statements_of_reasons": illegal_items("T1", window_ending(T_STAR))}))
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["dataset enforcement_actions"]


def test_hosting_tier_is_not_applicable():
    result = outcome(REPEAT, make_data({}), tier="HOSTING", marketplace=False)
    assert result.status == "NOT_APPLICABLE"
    assert result.message == "This obligation applies to PLATFORM and above; platform tier is HOSTING."


# ---- v2: what qualifies ------------------------------------------------------------------------------


def test_v2_kybc_incomplete_suspension_does_not_qualify():
    """Only a suspension or termination for ILLEGAL_CONTENT or HIDDEN_LINKS is the Art. 23(1) measure."""
    result = repeat(illegal_items("T1", window_ending(T_STAR)),
                    [measure("A1", "T1", "SUSPENSION", f"{T_STAR} 18:00", "KYBC_INCOMPLETE"),
                     measure("A2", "T1", "TERMINATION", f"{T_STAR} 19:00", "OTHER"),
                     action("A3", "T1", "SUSPENSION", f"{T_STAR} 20:00")])  # no reason: not one either
    assert result.status == "FAIL" and states(result) == [("T1", "unsuspended", False)]


def test_v2_missing_reason_column_is_insufficient_data():
    result = repeat(illegal_items("T1", window_ending(T_STAR)), [],
                    columns_absent={"enforcement_actions": {"reason"}})
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["column enforcement_actions.reason"]
    data = make_data({"statements_of_reasons": illegal_items("T1", window_ending(T_STAR)),
                      "enforcement_actions": [action("W0", "T9", "WARNING", "2025-01-01")]},
                     columns_absent={"enforcement_actions": {"reason"}})
    assert compute_metrics(data, H2)["repeat_infringers_unsuspended"]["value"] is None  # the metric agrees


def test_v2_reversed_sor_does_not_count():
    """A SoR reversed on complaint (decision_puid, DECISION_REVERSED) is no illegal item; an upheld one is."""
    rows = illegal_items("T1", window_ending(T_STAR)) + illegal_items("T2", window_ending(T_STAR))
    complaints = [
        {"complaint_id": "C1", "decision_puid": "T1-I1", "received_at": date(2025, 8, 1),
         "outcome": "DECISION_REVERSED"},
        {"complaint_id": "C2", "decision_puid": "T2-I1", "received_at": date(2025, 8, 1),
         "outcome": "DECISION_UPHELD"},
    ]
    result = repeat(rows, [], complaints=complaints)
    assert result.status == "FAIL" and states(result) == [("T2", "unsuspended", False)]
    assert "Reversals on complaint were not checked" not in result.message


def test_v2_without_complaints_the_rule_runs_and_says_reversals_were_not_checked():
    result = repeat(illegal_items("T1", window_ending(T_STAR)), [])
    assert result.status == "FAIL"
    assert "Reversals on complaint were not checked" in result.message


def test_v2_manifestly_illegal_false_does_not_count_null_does():
    rows = illegal_items("T1", window_ending(T_STAR)) + illegal_items("T2", window_ending(T_STAR))
    # T1's third item was not manifestly illegal; T2's are, but for the third one, unknown (null: counts)
    result = repeat(rows, [], manifest={"T1-I2": False, "T2-I0": True, "T2-I1": True})
    assert result.status == "FAIL" and states(result) == [("T2", "unsuspended", False)]
    assert "Art. 23(3) factors were not assessed" not in result.message


def test_v2_without_manifestly_illegal_column_every_illegal_sor_counts_and_the_message_says_so():
    rows = illegal_items("T1", window_ending(T_STAR))
    result = repeat(rows, [], columns_absent={"statements_of_reasons": {"manifestly_illegal"}})
    assert result.status == "FAIL"
    assert "Manifest illegality and the Art. 23(3) factors were not assessed" in result.message


# ---- v2: warnings ------------------------------------------------------------------------------------


def test_v2_first_warning_closes_an_episode():
    result = repeat(illegal_items("T1", window_ending(T_STAR)),
                    [measure("W1", "T1", "WARNING", f"{T_STAR + timedelta(days=14)} 10:00", "HIDDEN_LINKS")])
    assert result.status == "PASS" and result.metric["value"] == 0
    assert result.evidence["states"]["warned"] == 1 and result.evidence["count"] == 0


def test_v2_second_warning_within_365_days_does_not_close_an_episode():
    earlier = T_STAR - timedelta(days=365)  # exactly 365 days before t*: within the lookback
    result = repeat(illegal_items("T1", window_ending(T_STAR)),
                    [measure("W1", "T1", "WARNING", f"{earlier} 10:00"),
                     measure("W2", "T1", "WARNING", f"{T_STAR + timedelta(days=1)} 10:00")])
    assert result.status == "FAIL" and states(result) == [("T1", "unsuspended", False)]
    older = repeat(illegal_items("T1", window_ending(T_STAR)),
                   [measure("W1", "T1", "WARNING", f"{earlier - timedelta(days=1)} 10:00"),
                    measure("W2", "T1", "WARNING", f"{T_STAR + timedelta(days=1)} 10:00")])
    assert older.status == "PASS" and older.evidence["states"]["warned"] == 1  # 366 days before: first again
    kybc = repeat(illegal_items("T1", window_ending(T_STAR)),
                  [measure("W1", "T1", "WARNING", f"{earlier} 10:00", "KYBC_INCOMPLETE"),
                   measure("W2", "T1", "WARNING", f"{T_STAR + timedelta(days=1)} 10:00")])
    assert kybc.status == "PASS"  # a warning for another reason is no such warning


def test_v2_warning_after_the_deadline_changes_nothing():
    result = repeat(illegal_items("T1", window_ending(T_STAR)),
                    [measure("W1", "T1", "WARNING", f"{T_STAR + timedelta(days=15)} 10:00")])
    assert result.status == "FAIL" and states(result) == [("T1", "unsuspended", False)]


def test_v2_a_warning_restarts_the_count_only_when_it_closes_an_episode():
    # T1: warned first on t* (closes, restarts); three items after the warning make a second episode that a
    # suspension closes. T2: warned before t* (closes nothing, restarts nothing): one episode, then warned
    # again within the lookback, which does not close it
    t2 = T_STAR + timedelta(days=20)
    rows = (illegal_items("T1", window_ending(T_STAR))
            + illegal_items("T1", [T_STAR + timedelta(days=d) for d in (5, 10, 20)], "J")
            + illegal_items("T2", window_ending(T_STAR)))
    result = repeat(rows, [measure("W1", "T1", "WARNING", f"{T_STAR} 20:00"),
                           measure("S1", "T1", "SUSPENSION", f"{t2} 20:00"),
                           measure("W2", "T2", "WARNING", f"{T_STAR - timedelta(days=1)} 10:00"),
                           measure("W3", "T2", "WARNING", f"{T_STAR + timedelta(days=1)} 10:00")])
    assert result.evidence["states"] == {"compliant": 1, "warned": 1, "late": 0, "unsuspended": 1, "pending": 0}
    assert states(result) == [("T2", "unsuspended", False)]


# ---- v2: episodes ------------------------------------------------------------------------------------


def test_v2_count_restarts_after_a_suspension_before_the_threshold():
    """Items dated on or before a qualifying action no longer count: no threshold after it."""
    result = repeat(illegal_items("T1", window_ending(T_STAR)),
                    [measure("A1", "T1", "SUSPENSION", f"{T_STAR - timedelta(days=1)} 10:00")])
    assert result.status == "NOT_APPLICABLE" and result.evidence["states"]["unsuspended"] == 0


def test_v2_a_new_episode_after_a_suspension_is_judged():
    """v1 judged only the first threshold date of a trader: a second burst after a suspension went unseen."""
    first = [date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 3)]
    rows = illegal_items("T1", first) + illegal_items("T1", window_ending(T_STAR), "J")
    result = repeat(rows, [measure("A1", "T1", "SUSPENSION", "2025-05-05 10:00")])
    assert result.status == "FAIL"
    assert [(s["threshold_date"], s["illegal_items"], s["state"]) for s in items(result)] == [
        (T_STAR.isoformat(), 3, "unsuspended")
    ]


def test_v2_an_item_is_dated_again_by_its_first_sor_after_a_restart():
    old = illegal_items("T1", [date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 3)])
    again = [sor("T1-again", "2025-09-01 10:00", trader_id="T1", item_id="T1-I0")]  # the first item, removed again
    rows = old + again + illegal_items("T1", [date(2025, 9, 5), T_STAR], "J")
    result = repeat(rows, [measure("A1", "T1", "TERMINATION", "2025-05-05 10:00"),
                           action("R1", "T1", "REINSTATEMENT", "2025-06-01 10:00")])
    assert [(s["threshold_date"], s["illegal_items"]) for s in items(result)] == [(T_STAR.isoformat(), 3)]


def test_v2_deadline_in_the_period_is_judged_even_when_the_threshold_was_before_it():
    """v1 judged thresholds dated in the period; v2 judges deadlines in the period."""
    result = repeat(illegal_items("T1", window_ending(H2.start - timedelta(days=1))), [])
    assert result.status == "FAIL" and states(result) == [("T1", "unsuspended", False)]
    assert items(result)[0]["deadline"] == "2025-07-14"


def test_v2_carried_over_unsuspended_episode_fails_the_next_period():
    """The repeat infringer never acted on fails every period until acted on (v1: judged once, then gone)."""
    result = repeat(illegal_items("T1", window_ending(SPRING)), [])
    assert result.status == "FAIL" and result.metric["value"] == 1
    assert states(result) == [("T1", "unsuspended", True)]
    assert items(result)[0]["deadline"] == "2025-04-17"
    assert "carried over from earlier periods" in result.message


def test_v2_carried_over_episode_acted_on_in_the_period_is_late():
    result = repeat(illegal_items("T1", window_ending(SPRING)),
                    [measure("A1", "T1", "SUSPENSION", "2025-07-01 10:00")])
    assert result.status == "FAIL" and result.metric["value"] == 0
    assert states(result) == [("T1", "late", True)]
    closed = repeat(illegal_items("T1", window_ending(SPRING)),
                    [measure("A1", "T1", "SUSPENSION", "2025-06-30 23:59")])  # late, but before the period
    assert closed.status == "NOT_APPLICABLE"


def test_v2_termination_before_period_start_stops_carry_over_until_a_reinstatement():
    rows = illegal_items("T1", window_ending(SPRING))
    terminated = [measure("A1", "T1", "TERMINATION", "2025-06-01 10:00", "KYBC_INCOMPLETE")]
    assert repeat(rows, terminated).status == "NOT_APPLICABLE"  # no longer served
    reinstated = [*terminated, action("R1", "T1", "REINSTATEMENT", "2025-06-20 10:00")]
    assert states(repeat(rows, reinstated)) == [("T1", "unsuspended", True)]
    again = [*reinstated, measure("A2", "T1", "TERMINATION", "2025-06-25 10:00", "OTHER")]
    assert repeat(rows, again).status == "NOT_APPLICABLE"


def test_v2_suspension_covering_period_start_stops_carry_over():
    rows = illegal_items("T1", window_ending(SPRING))
    covering = [measure("A1", "T1", "SUSPENSION", "2025-06-01 10:00", "KYBC_INCOMPLETE", ends_at=date(2025, 7, 2))]
    assert repeat(rows, covering).status == "NOT_APPLICABLE"
    open_ended = [measure("A1", "T1", "SUSPENSION", "2025-06-01 10:00", "OTHER")]
    assert repeat(rows, open_ended).status == "NOT_APPLICABLE"
    ended = [measure("A1", "T1", "SUSPENSION", "2025-06-01 10:00", "KYBC_INCOMPLETE", ends_at=date(2025, 7, 1))]
    assert states(repeat(rows, ended)) == [("T1", "unsuspended", True)]  # over at period start: served again
    unknown = repeat(rows, open_ended, columns_absent={"enforcement_actions": {"ends_at"}})
    assert states(unknown) == [("T1", "unsuspended", True)]  # no ends_at column: not taken to cover it
    assert "carry no ends_at" in unknown.message


def test_v2_actions_after_period_end_do_not_count():
    result = repeat(illegal_items("T1", window_ending(H2.end - timedelta(days=20))),
                    [measure("A1", "T1", "SUSPENSION", "2026-01-01 00:00")])
    assert result.status == "FAIL" and states(result) == [("T1", "unsuspended", False)]


# ---- v2: evidence, metric, message -------------------------------------------------------------------


def test_v2_evidence_lists_offending_episodes_worst_first_and_pending_apart():
    """Unsuspended first, then late; oldest deadline first; ties by trader. Compliant episodes are only
    counted; pending ones are in evidence.pending."""
    rows = [
        *illegal_items("T5", window_ending(date(2025, 8, 1))),  # late
        *illegal_items("T4", window_ending(date(2025, 7, 1))),  # late, older deadline
        *illegal_items("T3", window_ending(date(2025, 9, 1))),  # unsuspended
        *illegal_items("T2", window_ending(date(2025, 9, 1))),  # unsuspended, same deadline
        *illegal_items("T1", window_ending(SPRING)),  # unsuspended, carried over: oldest
        *illegal_items("T6", window_ending(date(2025, 8, 1))),  # compliant
        *illegal_items("T7", window_ending(date(2025, 12, 25))),  # pending
    ]
    actions = [measure("A5", "T5", "SUSPENSION", "2025-09-01"), measure("A4", "T4", "TERMINATION", "2025-09-01"),
               measure("A6", "T6", "SUSPENSION", "2025-08-02")]
    result = repeat(rows, actions)
    assert states(result) == [("T1", "unsuspended", True), ("T2", "unsuspended", False),
                              ("T3", "unsuspended", False), ("T4", "late", False), ("T5", "late", False)]
    assert result.evidence["count"] == 5 and result.metric["value"] == 3
    assert result.evidence["pending"]["count"] == 1 and result.evidence["pending"]["sample"][0]["trader_id"] == "T7"
    assert result.evidence["states"] == {"compliant": 1, "warned": 0, "late": 2, "unsuspended": 3, "pending": 1}


def test_evidence_sample_is_the_first_20_and_count_all():
    rows = [r for n in range(25) for r in illegal_items(f"T{n:02d}", window_ending(T_STAR))]
    result = repeat(rows, [])
    assert result.evidence["count"] == 25 and len(items(result)) == 25
    assert [s["trader_id"] for s in result.evidence["sample"]] == [f"T{n:02d}" for n in range(20)]
    assert result.metric["value"] == 25


def test_v2_metric_equals_the_rule_on_carried_over_episodes():
    data = make_data({"statements_of_reasons": illegal_items("T1", window_ending(SPRING))
                      + illegal_items("T2", window_ending(T_STAR)),
                      "enforcement_actions": [measure("A1", "T2", "SUSPENSION", "2025-10-30")]})
    result = outcome(REPEAT, data)
    assert result.metric["value"] == 1 == compute_metrics(data, H2)["repeat_infringers_unsuspended"]["value"]


def test_v2_message_reads_as_an_indicator():
    result = repeat(illegal_items("T1", window_ending(T_STAR)), [])
    assert result.message.startswith(
        "1 trader had at least 3 items removed as illegal within 90 days (internal threshold) and was not "
        "warned, suspended or terminated within 14 days (internal); review each case."
    )
    passed = repeat(illegal_items("T1", window_ending(T_STAR)), [measure("A1", "T1", "SUSPENSION", f"{T_STAR}")])
    nothing = repeat(illegal_items("T1", [T_STAR]), [])
    for text in (result.message, passed.message, nothing.message):
        assert "breach" not in text.lower() and "infring" not in text.lower()
        assert "internal threshold" in text


# ---- prior warning, suspension duration ---------------------------------------------------------------


def test_prior_warning_within_lookback():
    actions = [
        measure("S1", "T1", "SUSPENSION", "2025-08-01"),
        measure("W1", "T1", "WARNING", "2024-08-01"),  # exactly 365 days before: in time
        measure("S2", "T2", "SUSPENSION", "2025-08-01", "HIDDEN_LINKS"),
        measure("W2", "T2", "WARNING", "2024-07-31"),  # 366 days before: too old
        measure("S3", "T3", "SUSPENSION", "2025-08-01", "KYBC_INCOMPLETE"),  # out of scope
    ]
    result = outcome("DSA-23.1-PRIOR-WARNING", make_data({"enforcement_actions": actions}))
    assert result.status == "FAIL"
    assert [i["action_id"] for i in items(result)] == ["S2"]


def test_v2_prior_warning_counts_only_warnings_for_illegal_content_or_hidden_links():
    actions = [
        measure("S1", "T1", "SUSPENSION", "2025-08-01"),
        measure("W1", "T1", "WARNING", "2025-07-01", "KYBC_INCOMPLETE"),  # not a warning for these reasons
        measure("S2", "T2", "SUSPENSION", "2025-08-01"),
        measure("W2", "T2", "WARNING", "2025-07-01", "HIDDEN_LINKS"),
        measure("S3", "T3", "SUSPENSION", "2025-08-01"),
        action("W3", "T3", "WARNING", "2025-07-01"),  # no reason
    ]
    result = outcome("DSA-23.1-PRIOR-WARNING", make_data({"enforcement_actions": actions}))
    assert result.status == "FAIL" and [i["action_id"] for i in items(result)] == ["S1", "S3"]
    assert "internal threshold" in result.message


def test_suspension_duration_warns_below_min_days():
    actions = [
        measure("S1", "T1", "SUSPENSION", "2025-08-01 10:00", ends_at=date(2025, 8, 8)),  # 7 days
        measure("S2", "T2", "SUSPENSION", "2025-08-01", ends_at=date(2025, 8, 7)),  # 6 days
        measure("S3", "T3", "SUSPENSION", "2025-08-01"),  # open-ended
        measure("S4", "T4", "SUSPENSION", "2025-08-01", "HIDDEN_LINKS", ends_at=date(2025, 8, 3)),  # 2 days
    ]
    result = outcome("DSA-23.1-SUSPENSION-DURATION", make_data({"enforcement_actions": actions}))
    assert result.status == "WARN"
    assert [(i["action_id"], i["days"]) for i in items(result)] == [("S4", 2), ("S2", 6)]  # shortest first


def test_v2_suspension_duration_reads_only_art_23_suspensions_and_7_days_as_internal():
    actions = [
        measure("S1", "T1", "SUSPENSION", "2025-08-01", "KYBC_INCOMPLETE", ends_at=date(2025, 8, 2)),
        measure("S2", "T2", "SUSPENSION", "2025-08-01", "OTHER", ends_at=date(2025, 8, 2)),
    ]
    result = outcome("DSA-23.1-SUSPENSION-DURATION", make_data({"enforcement_actions": actions}))
    assert result.status == "NOT_APPLICABLE"
    short = outcome("DSA-23.1-SUSPENSION-DURATION", make_data({"enforcement_actions": [
        *actions, measure("S3", "T3", "SUSPENSION", "2025-08-01", ends_at=date(2025, 8, 2))]}))
    assert short.status == "WARN" and [i["action_id"] for i in items(short)] == ["S3"]
    assert "internal threshold" in short.message and "sets no figure" in short.message


# ---- Art. 30 ------------------------------------------------------------------------------------------

KYBC = "DSA-30-KYBC-COMPLETENESS"


def test_kybc_complete_passes_and_null_trade_register_owes_nothing():
    data = make_data({"traders": [trader("T1"), trader("T2", kyc_trade_register=True)]})
    result = outcome(KYBC, data)
    assert result.status == "PASS"
    assert result.metric == {
        "name": "kybc_complete_share",
        "value": 1.0,
        "unit": "share",
        "comparator": "==",
        "threshold": 1,
    }


def test_kybc_names_the_missing_elements_most_live_listings_first():
    traders = [
        trader("T3", kyc_id_document=False, kyc_payment_account=None, live_listings=40),
        trader("T1", kyc_trade_register=False),
        trader("T0", kyc_contact=False),  # ties on live listings: by trader_id
        trader("T2"),
        trader("T4", kyc_contact=False, status="SUSPENDED"),  # not ACTIVE: out of scope
        trader("T5", kyc_contact=False, live_listings=0),  # no live listings: out of scope
    ]
    result = outcome(KYBC, make_data({"traders": traders}))
    assert result.status == "FAIL"
    assert result.evidence["sample"] == [
        {"trader_id": "T3", "live_listings": 40, "missing": ["kyc_id_document", "kyc_payment_account"]},
        {"trader_id": "T0", "live_listings": 5, "missing": ["kyc_contact"]},
        {"trader_id": "T1", "live_listings": 5, "missing": ["kyc_trade_register"]},
    ]
    assert result.metric["value"] == pytest.approx(1 / 4)


def test_kybc_unknown_live_listings_count_as_live_and_sort_last():
    traders = [
        trader("T1", live_listings=None, kyc_self_certification=False),  # v1: out of scope, a silent PASS
        trader("T2", live_listings=None),
        trader("T3", live_listings=1, kyc_contact=False),
    ]
    result = outcome(KYBC, make_data({"traders": traders}))
    assert result.status == "FAIL"
    assert [(i["trader_id"], i["live_listings"]) for i in items(result)] == [("T3", 1), ("T1", None)]
    assert result.metric["value"] == pytest.approx(1 / 3) and result.evidence["live_listings_unknown"] == 2
    assert "2 traders with unknown live listings counted as live" in result.message
    metrics = compute_metrics(make_data({"traders": traders}), H2)
    assert metrics["kybc_complete_share"]["value"] == pytest.approx(1 / 3)


def test_kybc_trade_register_is_a_required_column():
    data = make_data({"traders": [trader("T1")]}, columns_absent={"traders": {"kyc_trade_register"}})
    result = outcome(KYBC, data)
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["column traders.kyc_trade_register"]
    metric = compute_metrics(data, H2)["kybc_complete_share"]
    assert metric["value"] is None and metric["reason"] == "missing column traders.kyc_trade_register"


def test_kybc_nothing_in_scope():
    result = outcome(KYBC, make_data({"traders": [trader("T1", live_listings=0)]}))
    assert result.status == "NOT_APPLICABLE"


def test_kybc_tier_scope():
    data = make_data({"traders": [trader("T1")]})
    platform = outcome(KYBC, data, tier="PLATFORM", marketplace=False)
    assert platform.status == "NOT_APPLICABLE"
    assert platform.message == "This obligation applies to MARKETPLACE and above; platform tier is PLATFORM."
    vlop = outcome(KYBC, data, tier="VLOP", marketplace=False)
    assert vlop.status == "NOT_APPLICABLE"
    assert vlop.message.endswith(
        "applies to MARKETPLACE and above; platform tier is VLOP, not a marketplace."
    )
    assert outcome(KYBC, data, tier="VLOP", marketplace=True).status == "PASS"
    assert outcome(KYBC, data, tier="MARKETPLACE", marketplace=True).status == "PASS"


def test_kybc_missing_column():
    data = make_data({"traders": [trader("T1")]}, columns_absent={"traders": {"kyc_id_document"}})
    result = outcome(KYBC, data)
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["column traders.kyc_id_document"]


def test_kybc_verification():
    traders = [trader(f"T{n}", kyc_verified_at=date(2025, 1, 1)) for n in range(19)] + [trader("T99")]
    data = make_data({"traders": traders})
    assert outcome("DSA-30-KYBC-VERIFICATION", data).status == "PASS"  # 19/20 = 0.95 exactly
    result = outcome("DSA-30-KYBC-VERIFICATION", data, min_share=0.96)
    assert result.status == "WARN" and [i["trader_id"] for i in items(result)] == ["T99"]


def test_prior_warning_and_suspension_duration_period_edges():
    actions = [
        action("S0", "T0", "SUSPENSION", "2025-06-30 23:59:59", reason="ILLEGAL_CONTENT", ends_at=date(2025, 7, 1)),
        action("S1", "T1", "SUSPENSION", "2025-07-01 00:00:00", reason="ILLEGAL_CONTENT", ends_at=date(2025, 7, 2)),
        action("S2", "T2", "SUSPENSION", "2025-12-31 23:59:59", reason="HIDDEN_LINKS", ends_at=date(2026, 1, 1)),
        action("S3", "T3", "SUSPENSION", "2026-01-01 00:00:00", reason="ILLEGAL_CONTENT", ends_at=date(2026, 1, 2)),
        action("W2", "T2", "WARNING", "2025-12-31 23:59:58", reason="HIDDEN_LINKS"),  # a second before: in time
    ]
    data = make_data({"enforcement_actions": actions})
    result = outcome("DSA-23.1-PRIOR-WARNING", data)
    assert result.status == "FAIL" and [i["action_id"] for i in items(result)] == ["S1"]
    assert "1 of 2" in result.message
    short = outcome("DSA-23.1-SUSPENSION-DURATION", data)
    assert short.status == "WARN" and [i["action_id"] for i in items(short)] == ["S1", "S2"]
