"""Words for people, defined once: every enum value, metric name and evidence column a report prints.

Reports, e-mails and the CSVs look labels up here (`label`, `metric_label`, `meaning`, `column`); a value
this table does not know is shown humanised (`SOME_KEY` -> "Some key"), never as a bare key.
"""

from __future__ import annotations

import re
from typing import Any

from ..vocabulary import ADVISORY, DUTY, ERROR, FAIL, INDICATOR, INSUFFICIENT_DATA, NOT_APPLICABLE, PASS, WAIVED, WARN

# Status words: a FAIL is a finding to act on, never a legal determination (obligations.md v2, Statuses).
STATUS_WORDS = {
    FAIL: "rule not met", WARN: "warning", ERROR: "check failed", INSUFFICIENT_DATA: "not enough data",
    WAIVED: "waived", PASS: "met", NOT_APPLICABLE: "not applicable",
}
KIND_WORDS = {DUTY: "duty", INDICATOR: "indicator", ADVISORY: "advisory"}

ENUMS = {
    # statement categories (EU Transparency Database, v2 and the v1 keys kept as they are)
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": "Animal welfare",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": "Consumer information",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": "Cyber violence",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": "Cyber violence against women",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": "Data protection and privacy",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": "Illegal or harmful speech",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": "Intellectual property",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": "Civic discourse or elections",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE": "Not specified in the notice",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC": "Other, against the terms",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS": "Protection of minors",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": "Risk for public security",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": "Scams and fraud",
    "STATEMENT_CATEGORY_SELF_HARM": "Self-harm",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": "Unsafe and prohibited products",
    "STATEMENT_CATEGORY_VIOLENCE": "Violence",
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS": "Unsafe and illegal products (v1)",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": "Scope of the platform service (v1)",
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT": "Pornography or sexualised content (v1)",
    "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR": "Non-consensual behaviour (v1)",
    # decisions
    "DECISION_GROUND_ILLEGAL_CONTENT": "Illegal content",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT": "Incompatible with the terms",
    "DECISION_UPHELD": "Upheld", "DECISION_REVERSED": "Reversed", "DECISION_PARTIALLY_REVERSED": "Partly reversed",
    "DECISION_VISIBILITY_CONTENT_REMOVED": "Content removed",
    "SOURCE_ARTICLE_16": "Art. 16 notice", "SOURCE_TRUSTED_FLAGGER": "Trusted flagger",
    "SOURCE_TYPE_OTHER_NOTIFICATION": "Other notification", "SOURCE_VOLUNTARY": "Own initiative",
    "AUTOMATED_DECISION_FULLY": "Fully automated", "AUTOMATED_DECISION_PARTIALLY": "Partly automated",
    "AUTOMATED_DECISION_NOT_AUTOMATED": "Not automated",
    # notices, orders, enforcement
    "ACTION_TAKEN": "Action taken", "NO_ACTION": "No action", "MANIFESTLY_UNFOUNDED": "Manifestly unfounded",
    "PENDING": "Pending", "GIVEN_EFFECT": "Given effect", "REFUSED": "Refused",
    "ACT_AGAINST_ILLEGAL_CONTENT": "Act against illegal content", "PROVIDE_INFORMATION": "Provide information",
    "WARNING": "Warning", "PENALTY_POINTS": "Penalty points", "SUSPENSION": "Suspension",
    "TERMINATION": "Termination", "REINSTATEMENT": "Reinstatement",
    "ILLEGAL_CONTENT": "Illegal content", "HIDDEN_LINKS": "Hidden links", "UNFOUNDED_NOTICES": "Unfounded notices",
    "UNFOUNDED_COMPLAINTS": "Unfounded complaints", "KYBC_INCOMPLETE": "KYBC incomplete", "OTHER": "Other",
    "ACTIVE": "Active", "SUSPENDED": "Suspended", "TERMINATED": "Terminated",
    "VETTED_RESEARCHER": "Vetted researcher",
    # systemic risks (Art. 34(1))
    "ILLEGAL_CONTENT_DISSEMINATION": "Dissemination of illegal content",
    "FUNDAMENTAL_RIGHTS": "Fundamental rights", "CIVIC_DISCOURSE_ELECTIONS_SECURITY": "Civic discourse, elections",
    "PUBLIC_HEALTH_MINORS_WELLBEING": "Public health, minors, well-being",
    # evidence states
    "unsuspended": "not suspended", "late": "suspended late", "warned": "warned", "compliant": "compliant",
    "pending": "pending", "unpenalised": "not penalised", "unhandled": "not handled", "missed": "missed",
    "not_in_repository": "not in the repository", "not_reported": "not reported",
    "effect_after_deadline": "effect after the deadline",
    # units
    "share": "share", "count": "count", "days": "days", "hours": "hours", "ratio": "ratio",
    "recipients": "recipients",
}

# metric name -> (label, what it means). The names are the contract's (obligations.md, Metrics layer).
METRICS: dict[str, tuple[str, str]] = {
    "sor_count": ("Statements of reasons", "statements of reasons applied in the period, duplicates removed"),
    "sor_coverage_share": ("Notices acted on with a statement of reasons",
                           "of the notices acted upon, the share covered by a statement of reasons (Art. 17(1))"),
    "sor_complete_share": ("Complete statements of reasons",
                           "share of statements of reasons with every Art. 17(3) field they owe filled in"),
    "sor_submission_delay_p50_days": ("Delay to the Transparency Database, median",
                                      "half of the statements reached the database within this many days"),
    "sor_submission_delay_p95_days": ("Delay to the Transparency Database, 95th percentile",
                                      "95 in 100 statements reached the database within this many days"),
    "sor_automated_detection_share": ("Detected automatically", "share of statements whose content was found "
                                                                "by automated means"),
    "sor_fully_automated_share": ("Decided fully automatically", "share of statements decided with no person"),
    "sor_illegal_ground_share": ("Illegal-content ground", "share of statements given for illegal content "
                                                           "(the rest: incompatible with the terms)"),
    "notice_count": ("Notices", "notices received in the period"),
    "notice_median_decision_hours": ("Notice decision time, median",
                                     "half of the notices were decided within this time; undecided ones count "
                                     "with their age at period end, so it is a lower bound"),
    "trusted_flagger_median_decision_hours": ("Trusted-flagger decision time, median",
                                              "as the notice median, for trusted flaggers' notices only"),
    "article16_median_decision_hours": ("Art. 16 notice decision time, median",
                                        "as the notice median, for ordinary Art. 16 notices only"),
    "trusted_flagger_weighted_ratio": ("Trusted-flagger wait compared with others",
                                       "trusted flaggers' median wait divided by others' for the same categories; "
                                       "above 1 they wait longer than everyone else"),
    "notice_ack_within_24h_share": ("Notices acknowledged within 24 hours",
                                    "share of notices owed a confirmation that got one within a day"),
    "notice_backlog_count": ("Notice backlog", "notices undecided at period end and older than the backlog age"),
    "complaint_count": ("Complaints", "complaints received in the period"),
    "complaint_median_resolution_days": ("Complaint resolution time, median",
                                         "half of the complaints were resolved within this time; open ones count "
                                         "with their age at period end"),
    "complaint_reversal_rate": ("Complaints reversed", "share of decided complaints that reversed the decision "
                                                       "in full or in part"),
    "complaint_solely_automated_count": ("Complaints decided by machine alone",
                                         "complaints decided without qualified staff (Art. 20(6))"),
    "repeat_infringers_unsuspended": ("Repeat infringers not suspended",
                                      "traders over the repeat-infringer threshold still without a warning, "
                                      "suspension or termination past the grace period"),
    "recidivism_rate": ("Reinstated traders who offended again",
                        "share of traders reinstated in the period with a new illegal item within 90 days"),
    "kybc_complete_share": ("Traders with complete KYBC",
                            "share of active traders with live listings whose Art. 30(1) information is complete"),
    "kybc_verified_share": ("Traders verified", "share of active traders whose information was verified"),
    "reappearance_rate": ("Removed listings that reappeared",
                          "share of items removed in the period that came back in the period"),
    "hidden_link_median_survival_days": ("Hidden-link listings, time online (median)",
                                         "half of the hidden-link listings were taken down within this time; "
                                         "those still online count with their age at period end"),
    "proactive_control_rate": ("Found by own detection", "share of removals and pre-listing blocks found by the "
                                                         "platform's own proactive detection"),
    "pre_listing_interception_rate": ("Blocked before listing", "share of bad listings stopped before they went "
                                                                "online"),
    "avg_monthly_active_recipients_6m": ("Monthly active recipients (EU-27), 6-month average",
                                         "the figure Art. 33 compares with 45 million"),
    "suspensions_without_prior_warning": ("Suspensions without a prior warning",
                                          "suspensions for illegal content or hidden links with no warning before"),
    "short_suspensions": ("Suspensions shorter than the internal minimum",
                          "suspensions shorter than the platform's own reading of 'a reasonable period'"),
    "unfounded_notifiers": ("Notifiers sending unfounded notices",
                            "notifiers over the internal threshold of manifestly unfounded notices"),
    "traders_unpenalised_for_hidden_links": ("Traders not penalised for hidden links",
                                             "traders with a hidden-link item removed and no penalty around it"),
    "trader_info_shown_share": ("Listings showing the trader's details",
                                "share of live listings that show the Art. 30(7) trader information"),
    "listings_lacking_information_share": ("Listings lacking product information",
                                           "share of live listings without the Art. 31 product information"),
    "listing_interface_fields_missing": ("Listing-form fields missing", "fields Art. 31 asks the form to offer"),
    "illegal_products_buyers_uninformed": ("Illegal products, buyers not informed",
                                           "illegal products whose buyers were not told in time (Art. 32)"),
    "active_recipients_publication_gaps_too_long": ("Gaps in active-recipient publications",
                                                    "gaps longer than six months between publications"),
    "risk_assessment_age_days": ("Age of the latest risk assessment", "days from its completion to period end"),
    "risk_assessment_data_gap_days": ("Age of the data in the risk assessment",
                                      "days between the end of its data and its completion"),
    "risk_categories_missing": ("Systemic risk categories not assessed", "of the four in Art. 34(1)"),
    "launches_without_prior_assessment": ("Launches without a prior risk assessment",
                                          "critical-impact launches assessed late or not at all"),
    "severe_risks_unmitigated": ("Severe risks without mitigation",
                                 "HIGH or CRITICAL residual risks without an implemented mitigation"),
    "kris_missed": ("Key risk indicators missed", "targets the platform set itself and did not reach"),
    "audit_report_age_days": ("Age of the latest audit report", "days from its receipt to period end"),
    "audit_publications_missing_or_late": ("Audit publications missing or late", "Art. 42(4) documents"),
    "transparency_reports_missing_or_late": ("Transparency reports missing or late", "Art. 42(1) reports"),
    "ads_not_in_repository": ("Ads missing from the repository", "ads shown but not in the Art. 39 repository"),
    "ads_incomplete_in_repository": ("Ads incomplete in the repository", "entries lacking an Art. 39 field"),
    "ads_removed_before_retention": ("Ads removed too early", "removed before one year after last shown"),
    "recommender_systems_without_parameters": ("Recommenders without stated parameters",
                                               "main parameters not set out in the terms (Art. 27)"),
    "recommender_systems_without_non_profiling_option": ("Recommenders without a non-profiling option",
                                                         "Art. 38"),
    "vetted_requests_late": ("Researcher data requests late", "vetted researchers' access late or missing"),
    "public_data_access_median_days": ("Public data access time, median", "days to give access to public data"),
    "orders_effect_unreported": ("Orders without a report to the authority",
                                 "orders whose effect was not reported in time (Art. 9)"),
    "information_orders_unconfirmed": ("Information orders not confirmed", "receipt not confirmed in time"),
    "information_orders_past_deadline": ("Information orders past their deadline", "Art. 10"),
    "information_order_median_hours_to_effect": ("Information orders, time to effect (median)",
                                                 "half were given effect within this time"),
    "odr_decisions_implemented_share": ("Dispute-settlement decisions implemented", "Art. 21(2)"),
}

# evidence column -> header
COLUMNS = {
    "trader_id": "Trader", "item_id": "Item", "notice_id": "Notice", "complaint_id": "Complaint",
    "order_id": "Order", "action_id": "Action", "ad_id": "Ad", "platform_uid": "Statement (PUID)",
    "risk_id": "Risk", "commitment_id": "Commitment", "mitigation_id": "Mitigation", "assessment_id": "Assessment",
    "notifier_id": "Notifier", "id": "Id", "category": "Category", "state": "State", "received_at": "Received",
    "decided_at": "Decided", "age_days": "Age (days)", "survival_days": "Online (days)", "listed_at": "Listed",
    "removed_at": "Removed", "still_online": "Still online", "live_listings": "Live listings",
    "illegal_items": "Illegal items", "threshold_date": "Over threshold on", "deadline": "Deadline",
    "first_action": "First action", "carried_over": "From an earlier period", "missing": "Missing",
    "delay_days": "Delay (days)", "application_date": "Applied", "created_at": "Submitted",
    "median_hours": "Median (hours)", "notices": "Notices", "undecided": "Undecided",
    "hidden_link_items": "Hidden-link items", "unpenalised_removals": "Removals without penalty",
    "first_unpenalised_removal": "First such removal", "first_penalty_after": "First penalty after",
    "ack_hours": "Acknowledged after (hours)", "acknowledged_at": "Acknowledged", "occurred_at": "When",
    "reason": "Reason", "outcome": "Outcome", "decision_ground": "Ground", "empty_fields": "Empty fields",
    "reappeared_as": "Reappeared as", "hours_past_deadline": "Hours past deadline", "problems": "Problems",
    "days_late": "Days late", "deadline_at": "Deadline", "value": "Value", "target": "Target", "met": "Met",
}

# Trust and safety: what to do with a finding's evidence, by obligation id (the lists to act on).
ACTIONS: dict[str, tuple[str, str]] = {
    "DSA-23.1-REPEAT-INFRINGER-SUSPENSION": ("Traders", "Traders to suspend (repeat infringers)"),
    "DSA-23.1-PRIOR-WARNING": ("Traders", "Suspensions to review: no prior warning"),
    "DSA-35-HIDDEN-LINK-PENALTIES": ("Traders", "Traders to penalise for hidden links"),
    "DSA-30-KYBC-COMPLETENESS": ("Traders", "Traders to complete KYBC or take offline"),
    "DSA-30.7-TRADER-INFO-SHOWN": ("Traders", "Traders whose listings hide their details"),
    "DSA-30-KYBC-VERIFICATION": ("Traders", "Traders to verify"),
    "DSA-35-HIDDEN-LINK-SURVIVAL": ("Listings", "Hidden-link listings to take down"),
    "DSA-35-REAPPEARANCE-RATE": ("Listings", "Reappeared listings to take down"),
    "DSA-31.3-PRE-LISTING": ("Listings", "Listings lacking product information"),
    "DSA-32-BUYERS-INFORMED": ("Listings", "Illegal products whose buyers must be informed"),
    "DSA-16-NOTICE-TIMELINESS": ("Notices and orders", "Overdue notices to decide"),
    "DSA-17-SOR-COVERAGE": ("Notices and orders", "Notices acted on without a statement of reasons"),
    "DSA-9-EFFECT-REPORTED": ("Notices and orders", "Orders to report on to the authority"),
    "DSA-10-ORDER-RECEIPT": ("Notices and orders", "Information orders to confirm"),
    "DSA-10-INFORMATION-ORDERS": ("Notices and orders", "Information orders past their deadline"),
    "DSA-20-COMPLAINT-TIMELINESS": ("Notices and orders", "Overdue complaints to decide"),
    "DSA-20.6-HUMAN-REVIEW": ("Notices and orders", "Complaints to review by a person"),
    "DSA-24.5-SOR-SUBMISSION-DELAY": ("Notices and orders", "Statements of reasons submitted late"),
    "DSA-17-SOR-COMPLETENESS": ("Notices and orders", "Statements of reasons to complete"),
}
ACTION_GROUPS = ("Traders", "Listings", "Notices and orders", "Other")


def humanise(key: str) -> str:
    """`SOME_KEY_NAME` or `some_key` -> "Some key name"."""
    text = key.replace("STATEMENT_CATEGORY_", "").replace("_", " ").strip().lower()
    return text[:1].upper() + text[1:]


def label(value: Any) -> Any:
    """An enum value in words; anything that is not a known key passes through unchanged."""
    if isinstance(value, str):
        if value in ENUMS:
            return ENUMS[value]
        if value.startswith("STATEMENT_CATEGORY_"):
            return humanise(value)
    if isinstance(value, list):
        return [label(v) for v in value]
    return value


_KEY = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


def words(text: Any) -> Any:
    """A rule's message with the enum keys it quotes in words: 'slowest category STATEMENT_CATEGORY_SCAMS_AND_FRAUD'
    -> 'slowest category Scams and fraud'; ids (DSA-..., T-...) and other text are left alone."""
    if not isinstance(text, str):
        return text
    return _KEY.sub(lambda m: str(label(m.group())) if m.group() in ENUMS or m.group().startswith(
        "STATEMENT_CATEGORY_") else m.group(), text)


def status_words(finding: dict) -> str:
    """'rule not met' for a FAIL of a duty, 'indicator breached' for an indicator's FAIL, else the status word."""
    status = finding.get("status")
    if status == FAIL and finding.get("kind") in (INDICATOR, ADVISORY):
        return "indicator breached"
    if status == WAIVED and finding.get("waived_status"):
        return f"waived ({STATUS_WORDS.get(finding['waived_status'], finding['waived_status'])})"
    return STATUS_WORDS.get(status, str(status))


def metric_label(name: str | None) -> str:
    if not name:
        return ""
    return METRICS[name][0] if name in METRICS else humanise(name)


def meaning(name: str | None) -> str:
    return METRICS[name][1] if name in METRICS else ""


def column(name: str) -> str:
    return COLUMNS.get(name) or humanise(name)


def action(obligation_id: str) -> tuple[str, str]:
    """(group, list title) of a finding's evidence for trust and safety."""
    return ACTIONS.get(obligation_id, ("Other", ""))
