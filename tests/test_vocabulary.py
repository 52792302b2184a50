"""One name, one home: the schemas and the data contract use exactly the vocabulary's sets."""

import json

from contract_files import FINDINGS_SCHEMA
from dsa_report import vocabulary
from dsa_report.ingest import contract
from dsa_report.obligations.evaluation import SCHEMA as CATALOGUE_SCHEMA

CATALOGUE = json.loads(CATALOGUE_SCHEMA.read_text(encoding="utf-8"))
FINDINGS = json.loads(FINDINGS_SCHEMA.read_text(encoding="utf-8"))
OBLIGATION = CATALOGUE["$defs"]["obligation"]["properties"]
FINDING = FINDINGS["properties"]["findings"]["items"]["properties"]


def test_the_catalogue_schema_speaks_the_vocabulary_and_the_data_contract():
    assert tuple(CATALOGUE["$defs"]["tier"]["enum"]) == vocabulary.TIERS
    assert set(OBLIGATION["severity"]["enum"]) == set(vocabulary.SEVERITIES)
    assert set(CATALOGUE["$defs"]["dataset"]["enum"]) == set(contract.DATASETS)
    assert set(OBLIGATION["registers"]["items"]["enum"]) == set(contract.REGISTERS)


def test_the_findings_schema_speaks_the_vocabulary():
    assert set(FINDING["status"]["enum"]) == set(vocabulary.STATUSES)
    assert set(FINDING["waived_status"]["enum"]) == set(vocabulary.WAIVABLE)
    assert set(FINDING["severity"]["enum"]) == set(vocabulary.SEVERITIES)
    run = FINDINGS["properties"]["run"]["properties"]
    assert tuple(run["tier"]["enum"]) == vocabulary.TIERS
    assert tuple(run["trigger"]["enum"]) == vocabulary.TRIGGERS


def test_every_status_has_a_meaning_and_the_order_is_worst_first():
    assert set(vocabulary.STATUS_MEANINGS) == set(vocabulary.STATUSES)
    assert vocabulary.STATUSES[0] == vocabulary.FAIL and vocabulary.STATUSES[-1] == vocabulary.NOT_APPLICABLE


def test_content_types_by_suffix():
    assert vocabulary.content_type("evidence/DSA-17.jsonl") == "application/x-ndjson"
    assert vocabulary.content_type("emails/board.eml") == "message/rfc822"
    assert vocabulary.content_type("a.b/README") == vocabulary.OCTET_STREAM


def test_kinds_and_bases_are_the_contracts():
    obligation = CATALOGUE["$defs"]["obligation"]["properties"]
    assert tuple(obligation["kind"]["enum"]) == vocabulary.KINDS
    assert tuple(obligation["basis"]["additionalProperties"]["enum"]) == vocabulary.BASES


def test_every_indicator_and_advisory_quotes_the_article():
    from dsa_report.obligations.evaluation import default_catalogue
    from dsa_report.obligations.wording import article_words

    qualitative = [ob.id for ob in default_catalogue() if ob.kind in (vocabulary.INDICATOR, vocabulary.ADVISORY)]
    assert qualitative and [i for i in qualitative if not article_words(i)] == []
