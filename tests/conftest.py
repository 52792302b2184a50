"""Fixtures every AWS-facing test shares: fake credentials (never the developer's), a mocked account, a
delivery ledger table in it."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from dsa_report.delivery.ledger import DynamoLedger

REGION = "eu-west-1"
LEDGER_TABLE = "dsa-deliveries"


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials and region; no profile or endpoint of the machine leaks in."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def aws(aws_env):
    """A mocked AWS account (moto, in process)."""
    with mock_aws():
        yield


@pytest.fixture
def ledger(aws):
    """The delivery ledger's DynamoDB table, as template.yaml creates it."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(TableName=LEDGER_TABLE, KeySchema=[{"AttributeName": "delivery_key", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "delivery_key", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")
    return DynamoLedger(LEDGER_TABLE, ddb)
