"""The obligation catalogue: the shipped YAML validates and keeps the contract's ids and defaults; broken
copies fail with the file and the key path."""

import shutil
from pathlib import Path

import pytest
import yaml

from dsa_report.engine.catalogue import CatalogueError
from dsa_report.engine.registry import RULES
from dsa_report.obligations.evaluation import FOLDER, load_catalogue

CONTRACT = {  # id: (article, tiers as written, default parameters) from contracts/obligations.md
    "DSA-17-SOR-COVERAGE": ("17", "HOSTING+", {"min_share": 0.999}),
    "DSA-17-SOR-COMPLETENESS": ("17(3)", "HOSTING+", {"min_share": 0.999}),
    "DSA-24.5-SOR-SUBMISSION-DELAY": ("24(5)", "PLATFORM+", {"warn_p95_days": 2, "fail_p95_days": 7}),
    "DSA-16-NOTICE-ACKNOWLEDGEMENT": ("16(4)", "HOSTING+", {"ack_hours": 24, "min_share": 0.99}),
    "DSA-16-NOTICE-TIMELINESS": (
        "16(6)",
        "HOSTING+",
        {"warn_median_hours": 24, "fail_median_hours": 72, "backlog_days": 7},
    ),
    "DSA-22-TRUSTED-FLAGGER-PRIORITY": ("22", "PLATFORM+", {"max_ratio": 0.5, "min_notices": 10}),
    "DSA-20-COMPLAINT-TIMELINESS": ("20(4)", "PLATFORM+", {"warn_median_days": 7, "fail_median_days": 14}),
    "DSA-20.6-HUMAN-REVIEW": ("20(6)", "PLATFORM+", {}),
    "DSA-20-REVERSAL-RATE": ("20(4)", "PLATFORM+", {"warn_rate": 0.25}),
    "DSA-23.1-REPEAT-INFRINGER-SUSPENSION": (
        "23(1)",
        "PLATFORM+",
        {"min_items": 3, "window_days": 90, "grace_days": 14, "lookback_days": 365},
    ),
    "DSA-23.1-PRIOR-WARNING": ("23(1)", "PLATFORM+", {"lookback_days": 365}),
    "DSA-23.1-SUSPENSION-DURATION": ("23(1)", "PLATFORM+", {"min_days": 7}),
    "DSA-23.2-UNFOUNDED-NOTIFIERS": ("23(2)", "PLATFORM+", {"min_unfounded": 5, "window_days": 90}),
    "DSA-30-KYBC-COMPLETENESS": ("30(1)", "MARKETPLACE+", {}),
    "DSA-30-KYBC-VERIFICATION": ("30(2)", "MARKETPLACE+", {"min_share": 0.95}),
    "DSA-35-REAPPEARANCE-RATE": ("34/35", "VLOP (marketplace)", {"warn_rate": 0.02, "fail_rate": 0.05}),
    "DSA-35-HIDDEN-LINK-SURVIVAL": ("34/35", "VLOP (marketplace)", {"warn_days": 2, "fail_days": 7}),
    "DSA-35-HIDDEN-LINK-PENALTIES": ("34/35", "VLOP (marketplace)", {"grace_days": 14}),
    "DSA-35-PROACTIVE-DETECTION": ("34/35", "VLOP (marketplace)", {"min_rate": 0.5}),
    "DSA-24.2-ACTIVE-RECIPIENTS-PUBLICATION": ("24(2)", "PLATFORM+", {"max_gap_months": 6}),
    "DSA-33-VLOP-THRESHOLD": ("33", "PLATFORM+", {"threshold": 45000000}),
    "DSA-34-RA-FRESHNESS": ("34(1)", "VLOP", {"max_age_days": 365}),
    "DSA-34-RA-COVERAGE": ("34(1)", "VLOP", {}),
    "DSA-34-RA-BEFORE-LAUNCH": ("34(1)", "VLOP", {}),
    "DSA-34-RA-OWN-DATA": ("34(2)", "VLOP", {"max_gap_days": 365}),
    "DSA-35-MITIGATION-COVERAGE": ("35(1)", "VLOP", {}),
    "DSA-35-MITIGATION-EFFECTIVENESS": ("35(1)", "VLOP", {}),
    "DSA-37-AUDIT-FRESHNESS": ("37", "VLOP", {"max_age_days": 365}),
    "DSA-42.4-AUDIT-PUBLICATION": ("42(4)", "VLOP", {"deadline_months": 3}),
    "DSA-42-TRANSPARENCY-REPORT": ("42(1)", "VLOP", {"deadline_months": 2}),
    "DSA-71-COMMITMENTS": ("71", "VLOP", {}),
    "DSA-30.7-TRADER-INFO-SHOWN": ("30(7)", "MARKETPLACE+", {}),
    "DSA-31-INTERFACE-FIELDS": ("31(1), 31(2)", "MARKETPLACE+", {}),
    "DSA-31.3-PRE-LISTING": ("31(3)", "MARKETPLACE+", {"max_share": 0.01, "min_checked_share": 0.05}),
    "DSA-27-RECOMMENDER-PARAMETERS": ("27(1)-(3)", "PLATFORM+", {}),
    "DSA-38-NON-PROFILING-OPTION": ("38, 27(3)", "VLOP", {}),
    "DSA-40-DATA-ACCESS": ("40(4), 40(5), 40(12)", "VLOP", {"amendment_days": 15, "warn_median_days": 30}),
    "DSA-9-EFFECT-REPORTED": ("9(1)", "HOSTING+", {"report_hours": 72}),
    "DSA-10-ORDER-RECEIPT": ("10(1)", "HOSTING+", {"ack_hours": 48}),
    "DSA-10-INFORMATION-ORDERS": ("10(1)", "HOSTING+", {"warn_median_hours": 72}),
    "DSA-21-ODS-IMPLEMENTATION": ("21(2), 24(1)(a)", "PLATFORM+", {"grace_days": 14}),
    "DSA-32-BUYERS-INFORMED": ("32(1), 32(2)", "MARKETPLACE+", {"grace_days": 14}),
    "DSA-39-ADS-IN-REPOSITORY": ("39(1)", "VLOP", {"max_delay_hours": 24}),
    "DSA-39-ADS-REPOSITORY-FIELDS": ("39(2), 39(3)", "VLOP", {}),
    "DSA-39-ADS-RETENTION": ("39(1)", "VLOP", {}),
}


def test_shipped_catalogue_keeps_the_contract():
    catalogue = load_catalogue()
    assert catalogue.version == "2026.11-1"
    assert catalogue.ids == list(CONTRACT)
    for ob in catalogue:
        article, tiers, defaults = CONTRACT[ob.id]
        assert (ob.article, ob.applies_to, ob.parameters) == (article, tiers, defaults), ob.id
        assert ob.rule in RULES and ob.title and ob.remediation and ob.description
        assert ob.severity in ("LOW", "MEDIUM", "HIGH", "CRITICAL")


def test_tier_scope():
    catalogue = load_catalogue()
    kybc, ra = catalogue.get("DSA-30-KYBC-COMPLETENESS"), catalogue.get("DSA-34-RA-FRESHNESS")
    hosting = catalogue.get("DSA-17-SOR-COMPLETENESS")
    assert [
        kybc.applies(t, m)
        for t, m in [("PLATFORM", True), ("MARKETPLACE", True), ("VLOP", True), ("VLOP", False)]
    ] == [False, True, True, False]
    assert [ra.applies(t, True) for t in ("HOSTING", "PLATFORM", "MARKETPLACE", "VLOP")] == [False] * 3 + [
        True
    ]
    assert all(hosting.applies(t, False) for t in ("HOSTING", "PLATFORM", "MARKETPLACE", "VLOP"))


def test_the_listing_indicators_bind_vlop_marketplaces_only():
    catalogue = load_catalogue()
    for obligation_id in ("DSA-35-REAPPEARANCE-RATE", "DSA-35-HIDDEN-LINK-SURVIVAL",
                          "DSA-35-HIDDEN-LINK-PENALTIES", "DSA-35-PROACTIVE-DETECTION"):
        ob = catalogue.get(obligation_id)
        assert [ob.applies(t, m) for t, m in [("PLATFORM", True), ("MARKETPLACE", True), ("VLOP", False),
                                              ("VLOP", True)]] == [False, False, False, True], obligation_id
        assert ob.scope_text() == "VLOP (marketplace) only"
    assert [catalogue.get("DSA-71-COMMITMENTS").applies(t, False) for t in ("HOSTING", "VLOP")] == [False, True]


def test_marketplace_only_narrows_an_explicit_list_naming_vlop(copy):
    def narrow(applies_to):
        return lambda d: d["obligations"][0].update(applies_to=applies_to, marketplace_only=True)

    catalogue = load_catalogue(copy(narrow(["HOSTING", "VLOP"])))
    ob = catalogue.obligations[0]
    assert ob.applies_to == "HOSTING, VLOP (marketplace)" and ob.marketplace_only
    assert [ob.applies(t, m) for t, m in [("HOSTING", False), ("PLATFORM", False), ("VLOP", False),
                                          ("VLOP", True)]] == [True, False, False, True]
    for applies_to in ("PLATFORM+", ["HOSTING", "PLATFORM"]):
        with pytest.raises(CatalogueError, match=r"obligations\[0\]\.marketplace_only: narrows VLOP"):
            load_catalogue(copy(narrow(applies_to)))
    with pytest.raises(CatalogueError, match=r"obligations\[0\]\.marketplace_only: 'yes' is not of type"):
        load_catalogue(copy(lambda d: d["obligations"][0].update(marketplace_only="yes")))


@pytest.fixture
def copy(tmp_path: Path):
    """A writable copy of the shipped catalogue folder, and a way to edit its obligations.yaml."""
    folder = tmp_path / "catalogue"
    shutil.copytree(FOLDER, folder)
    path = folder / "obligations.yaml"

    def edit(change):
        document = yaml.safe_load(path.read_text())
        change(document)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return folder

    return edit


def test_bad_severity_names_file_and_key(copy):
    folder = copy(lambda d: d["obligations"][3].update(severity="HUGE"))
    with pytest.raises(CatalogueError) as error:
        load_catalogue(folder)
    assert str(error.value).startswith("obligations.yaml: obligations[3].severity: 'HUGE' is not one of [")


def test_missing_id_names_file_and_key(copy):
    folder = copy(lambda d: d["obligations"][2].pop("id"))
    with pytest.raises(
        CatalogueError, match=r"^obligations\.yaml: obligations\[2\]: 'id' is a required property"
    ):
        load_catalogue(folder)


def test_unknown_rule(copy):
    folder = copy(lambda d: d["obligations"][0].update(rule="no_such_rule"))
    with pytest.raises(CatalogueError, match=r"obligations\[0\]\.rule: 'no_such_rule' is not a known rule"):
        load_catalogue(folder)


def test_duplicate_id(copy):
    folder = copy(lambda d: d["obligations"][5].update(id=d["obligations"][1]["id"]))
    with pytest.raises(CatalogueError, match=r"obligations\[5\]\.id: duplicate id 'DSA-17-SOR-COMPLETENESS'"):
        load_catalogue(folder)


def test_unknown_column_and_dataset(copy):
    folder = copy(lambda d: d["obligations"][1]["columns"]["statements_of_reasons"].append("no_column"))
    with pytest.raises(
        CatalogueError, match=r"obligations\[1\]\.columns\.statements_of_reasons\[2\]: 'no_column'"
    ):
        load_catalogue(folder)
    folder = copy(lambda d: d["obligations"][1].update(datasets=["notices"]))
    with pytest.raises(CatalogueError, match=r"obligations\[1\]\.columns\.statements_of_reasons: dataset"):
        load_catalogue(folder)
    folder = copy(lambda d: d["obligations"][1].update(datasets=["sors"]))
    with pytest.raises(CatalogueError, match=r"obligations\[1\]\.datasets\[0\]: 'sors' is not one of"):
        load_catalogue(folder)


def test_bad_applies_to_and_unknown_key(copy):
    folder = copy(lambda d: d["obligations"][0].update(applies_to="PLATFORM"))
    with pytest.raises(CatalogueError, match=r"obligations\[0\]\.applies_to"):
        load_catalogue(folder)
    folder = copy(lambda d: d["obligations"][0].update(applies_to=["PLATFORM"], severty="LOW"))
    with pytest.raises(CatalogueError, match=r"obligations\[0\]: Additional properties .*'severty'"):
        load_catalogue(folder)


def test_yaml_syntax_error_and_missing_version(tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: '1'\nobligations: [\n")
    with pytest.raises(CatalogueError, match=r"^broken\.yaml: cannot be read as YAML"):
        load_catalogue(broken)
    broken.write_text("obligations: []\n")
    with pytest.raises(CatalogueError, match=r"^broken\.yaml: 'version' is a required property"):
        load_catalogue(broken)


def test_a_folder_of_files_is_one_catalogue(copy):
    folder = copy(lambda d: None)
    extra = {
        "version": "2026.11-1",
        "obligations": [
            {
                "id": "DSA-99-CUSTOM",
                "article": "99",
                "title": "A platform's own control",
                "applies_to": ["HOSTING", "VLOP"],
                "severity": "LOW",
                "kind": "INDICATOR",
                "datasets": ["notices"],
                "columns": {"notices": ["received_at"]},
                "parameters": {"min_share": 0.5},
                "basis": {"min_share": "POLICY"},
                "rule": "notice_acknowledgement",
                "remediation": "Fix it.",
                "description": "Reuses an evaluator with other parameters.",
            }
        ],
    }
    (folder / "zz-custom.yaml").write_text(yaml.safe_dump(extra))
    catalogue = load_catalogue(folder)
    custom = catalogue.get("DSA-99-CUSTOM")
    assert catalogue.ids[-1] == "DSA-99-CUSTOM" and custom.applies_to == "HOSTING, VLOP"
    assert custom.applies("HOSTING", False) and not custom.applies("PLATFORM", False)
    extra["version"] = "other"
    (folder / "zz-custom.yaml").write_text(yaml.safe_dump(extra))
    with pytest.raises(CatalogueError, match="disagree on version"):
        load_catalogue(folder)
