"""The micro/small enterprise exemption (Arts 19, 29) and the "Not checked" coverage list (obligations.md v2)."""

from datetime import date

from dsa_report.engine.evaluate import evaluate_one
from dsa_report.obligations.coverage import not_checked
from dsa_report.obligations.evaluation import context, default_catalogue, effective_parameters
from dsa_report.obligations.exemptions import sme_exemption
from tables import H2, make_data

CATALOGUE = default_catalogue()


def statuses(exempt, tier="MARKETPLACE"):
    data = make_data({})
    params = effective_parameters(CATALOGUE)
    ctx = context(data, H2, tier=tier, marketplace=True, params=params)
    return {ob.id: evaluate_one(ob, ctx, params[ob.id], exempt) for ob in CATALOGUE}


def test_a_small_marketplace_is_exempt_from_sections_3_and_4_only():
    exempt, note = sme_exemption("small", None, "MARKETPLACE", H2)
    assert note and "Arts 19 and 29" in note
    results = statuses(exempt)
    complaint = results["DSA-20-COMPLAINT-TIMELINESS"]
    assert complaint.status == "NOT_APPLICABLE" and "Art. 19" in complaint.message
    kybc = results["DSA-30-KYBC-COMPLETENESS"]
    assert kybc.status == "NOT_APPLICABLE" and "Art. 29" in kybc.message
    assert "Art. 19" in results["DSA-24.5-SOR-SUBMISSION-DELAY"].message  # Art. 24(5) is in Section 3
    # Arts 16 and 17 bind every hosting service, small or not: no data here, so INSUFFICIENT_DATA, not exempt
    assert results["DSA-16-NOTICE-TIMELINESS"].status == "INSUFFICIENT_DATA"
    assert results["DSA-17-SOR-COMPLETENESS"].status == "INSUFFICIENT_DATA"


def test_the_exemption_lasts_twelve_months_after_the_status_is_lost():
    assert sme_exemption("none", date(2025, 3, 1), "PLATFORM", H2)[0] is not None  # 10 months before 31 Dec
    assert sme_exemption("none", date(2024, 12, 1), "PLATFORM", H2)[0] is None  # 13 months
    assert sme_exemption("none", None, "PLATFORM", H2) == (None, None)


def test_a_vlop_is_never_exempt_and_the_report_says_so():
    exempt, note = sme_exemption("micro", None, "VLOP", H2)
    assert exempt is None and "never applies to a very large online platform" in note
    assert statuses(exempt, "VLOP")["DSA-20-COMPLAINT-TIMELINESS"].status == "INSUFFICIENT_DATA"


def test_not_checked_lists_the_tiers_articles_and_what_the_run_could_not_decide():
    undecided = [{"obligation_id": "DSA-9-X", "article": "9(1)", "title": "Orders", "status": "INSUFFICIENT_DATA",
                  "message": "", "missing": ["dataset orders"]},
                 {"obligation_id": "DSA-17-Y", "article": "17", "title": "SoR", "status": "PASS", "message": ""}]
    vlop = not_checked("VLOP", True, undecided)
    articles = [entry["article"] for entry in vlop]
    assert {"28", "44-48", "30(1)", "11-13", "9(1)"} <= set(articles)
    assert "DSA-17-Y" not in str(vlop)
    assert next(e for e in vlop if e["article"] == "9(1)")["why"] == "DSA-9-X could not decide: missing dataset orders"
    platform = [entry["article"] for entry in not_checked("PLATFORM", False, [])]
    assert "28" in platform and "44-48" not in platform and "30(1)" not in platform
    assert "30(1)" not in [entry["article"] for entry in not_checked("VLOP", False, [])]  # not a marketplace
    assert all(entry.get("why") for entry in vlop)
