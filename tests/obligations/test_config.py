"""Config validation: every problem is one line naming the key, before any data is read."""

from datetime import date

import pytest

from dsa_report.obligations.config import ConfigError, load_config

KNOWN = {"DSA-23.1-REPEAT-INFRINGER-SUSPENSION": {"min_items": 3, "window_days": 90, "grace_days": 14},
         "DSA-30-KYBC-VERIFICATION": {"min_share": 0.95}}

GOOD = """
platform: ExampleMarket
platform_names: [ExampleMarket]
tier: VLOP
marketplace: true
source: s3://example-transparency/examplemarket/
turnover_eur: 12000000000
parameters:
  DSA-23.1-REPEAT-INFRINGER-SUSPENSION: {min_items: 3, window_days: 90, grace_days: 14}
waivers:
  - {obligation: DSA-30-KYBC-VERIFICATION, justification: "re-verification campaign", approved_by: "CCO",
     expires: 2026-03-31}
sender: dsa-reports@example.com
audiences:
  - {name: compliance, recipients: [compliance@example.com]}
"""


def test_contract_example_loads():
    config = load_config(GOOD, obligation_parameters=KNOWN)
    assert config.platform == "ExampleMarket" and config.tier == "VLOP" and config.marketplace
    assert config.parameters["DSA-23.1-REPEAT-INFRINGER-SUSPENSION"]["grace_days"] == 14
    assert config.waivers[0].expires == date(2026, 3, 31)
    assert config.audiences[0].recipients == ("compliance@example.com",)
    assert config.names_in_data == ("ExampleMarket",)
    assert (config.binding_commitments, config.sme_status, config.sme_lost_on) == (False, "none", None)


def test_v2_keys_load():
    v2 = GOOD.replace("marketplace: true\n",
                      "marketplace: true\nbinding_commitments: true\nsme_status: small\nsme_lost_on: 2025-09-30\n")
    config = load_config(v2, obligation_parameters=KNOWN)
    assert (config.binding_commitments, config.sme_status, config.sme_lost_on) == (True, "small", date(2025, 9, 30))


@pytest.mark.parametrize("change, key", [
    (("tier: VLOP", "tier: GIANT"), "tier"),
    (("platform: ExampleMarket\n", "platform: ExampleMarket\ncolour: blue\n"), "colour"),
    (("DSA-23.1-REPEAT-INFRINGER-SUSPENSION: {", "DSA-99-NOPE: {"), "parameters.DSA-99-NOPE"),
    (("{min_items: 3,", "{min_itemz: 3,"), "parameters.DSA-23.1-REPEAT-INFRINGER-SUSPENSION.min_itemz"),
    (("obligation: DSA-30-KYBC-VERIFICATION", "obligation: DSA-30-NOPE"), "waivers[0].obligation"),
    (("\n     expires: 2026-03-31", ""), "waivers[0].expires"),
    (("[compliance@example.com]", "[not-an-address]"), "audiences[0].recipients[0]"),
    (("sender: dsa-reports@example.com", "sender: nobody"), "sender"),
    (("turnover_eur: 12000000000", "turnover_eur: lots"), "turnover_eur"),
    (("{name: compliance,", "{name: boardroom,"), "audiences[0].name"),  # v2: a typo never mails the board
    (("marketplace: true\n", "marketplace: true\nbinding_commitments: maybe\n"), "binding_commitments"),
    (("marketplace: true\n", "marketplace: true\nsme_status: tiny\n"), "sme_status"),
    (("marketplace: true\n", "marketplace: true\nsme_lost_on: someday\n"), "sme_lost_on"),
])
def test_errors_name_the_key(change, key):
    with pytest.raises(ConfigError) as err:
        load_config(GOOD.replace(*change), origin="cfg.yaml", obligation_parameters=KNOWN)
    assert err.value.key == key
    assert str(err.value).startswith(f"cfg.yaml: {key}: ") and "\n" not in str(err.value)


def test_waiver_glob_is_allowed_and_yaml_errors_are_one_line():
    config = load_config(GOOD.replace("obligation: DSA-30-KYBC-VERIFICATION", "obligation: DSA-30-*"),
                         obligation_parameters=KNOWN)
    assert config.waivers[0].matches("DSA-30-KYBC-COMPLETENESS")
    with pytest.raises(ConfigError, match="line"):
        load_config("platform: [unclosed", obligation_parameters=KNOWN)


def test_the_shipped_example_config_is_valid_against_the_catalogue():
    from pathlib import Path

    from dsa_report.app import pipeline

    example = Path(__file__).resolve().parents[2] / "infra" / "config" / "examplemarket.yaml"
    config = pipeline.read_config(str(example), pipeline.Clients())
    assert config.tier == "VLOP" and [a.name for a in config.audiences] == ["board", "compliance",
                                                                          "trust_and_safety"]
