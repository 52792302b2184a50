"""The arrival function through a real HTTP endpoint (moto server): the event S3 sends EventBridge when an
object lands or leaves -> the curated store, reported the day it lands."""

from __future__ import annotations

import email
import email.policy
import json
import os
import urllib.request

import boto3
import pytest

from dsa_report.tools import demo


class Context:
    aws_request_id = "arrival-test"
    function_name = "dsa-report-arrival"
    memory_limit_in_mb = 2048
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:dsa-report-arrival"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


CONFIG = f"platform: ExampleMarket\ntier: VLOP\nmarketplace: true\nsource: s3://{demo.DATA_BUCKET}/raw/\n"
CSV = ("platform_name,platform_uid,decision_ground,application_date\n"
       "ExampleMarket,1,DECISION_GROUND_ILLEGAL_CONTENT,2025-10-03\n"
       "ExampleMarket,2,DECISION_GROUND_ILLEGAL_CONTENT,someday\n")


@pytest.fixture
def s3():
    """The demo's local stack (its environment is restored on leaving: no monkeypatch, which would restore the
    values the stack set)."""
    with demo.local_aws() as endpoint:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))  # a clean account
        demo.provision(endpoint)
        client = boto3.client("s3", endpoint_url=endpoint)
        client.put_object(Bucket=demo.DATA_BUCKET, Key="config.yaml", Body=CONFIG.encode())
        os.environ["DSA_CONFIG"] = f"s3://{demo.DATA_BUCKET}/config.yaml"
        yield client


def _event(client, key: str, kind: str = "Object Created", sequencer: str = "01") -> dict:
    obj = {"key": key, "sequencer": sequencer}
    if kind == "Object Created":
        head = client.head_object(Bucket=demo.DATA_BUCKET, Key=key)
        obj |= {"etag": head["ETag"].strip('"'), "version-id": head.get("VersionId"), "size": head["ContentLength"]}
    return {"version": "0", "detail-type": kind, "source": "aws.s3", "region": "eu-west-1",
            "detail": {"version": "0", "bucket": {"name": demo.DATA_BUCKET}, "object": obj}}


def _store(client) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=demo.CURATED_BUCKET)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_an_object_lands_once_in_the_store_and_its_quarantined_row_is_reported(s3):
    from handlers.arrival import handler

    key = "raw/statements_of_reasons/2025/10/a.csv"
    s3.put_object(Bucket=demo.DATA_BUCKET, Key=key, Body=CSV.encode())
    first = handler(_event(s3, key), Context())
    assert first["status"] == "written" and first["months"] == ["2025-10"]
    assert first["quarantined_rows"] == 1 and first["reasons"] == {"bad timestamp application_date": 1}
    assert "someday" not in json.dumps(first)  # counts and reasons, never a row's values
    stored = _store(s3)
    assert any(k.startswith("statements_of_reasons/month=2025-10/") for k in stored)
    record = json.loads(s3.get_object(Bucket=demo.CURATED_BUCKET, Key=next(k for k in stored if "_objects" in k))
                        ["Body"].read())
    assert record["source"] == f"s3://{demo.DATA_BUCKET}/{key}" and record["platform_names"] == ["ExampleMarket"]

    assert handler(_event(s3, key), Context())["status"] == "unchanged"  # EventBridge delivers at least once
    assert _store(s3) == stored
    part = next(k for k in stored if k.endswith(".parquet"))
    s3.delete_object(Bucket=demo.CURATED_BUCKET, Key=part)  # lost behind the function's back
    assert handler(_event(s3, key), Context())["status"] == "repaired"  # the same version: its part written again
    assert _store(s3) == stored
    s3.put_object(Bucket=demo.DATA_BUCKET, Key=key, Body=CSV.replace("someday", "2025-11-02").encode())
    replaced = handler(_event(s3, key, sequencer="02"), Context())
    assert replaced["status"] == "written" and replaced["months"] == ["2025-10", "2025-11"]
    assert replaced["quarantined_rows"] == 0
    assert len([k for k in _store(s3) if k.endswith(".parquet")]) == 2  # the first version's part is gone

    s3.delete_object(Bucket=demo.DATA_BUCKET, Key=key)
    assert handler(_event(s3, key, "Object Deleted", sequencer="03"), Context())["status"] == "deleted"
    assert _store(s3) == []


def test_objects_outside_the_data_location_are_ignored_and_bad_events_fail_without_retry(s3):
    from handlers.arrival import handler

    s3.put_object(Bucket=demo.DATA_BUCKET, Key="elsewhere/notices/a.jsonl", Body=b'{"notice_id": "n"}\n')
    assert handler(_event(s3, "elsewhere/notices/a.jsonl"), Context())["status"] == "ignored"
    assert handler(_event(s3, "config.yaml"), Context())["status"] == "ignored"
    failed = handler({"detail-type": "Scheduled Event", "source": "aws.events"}, Context())
    assert failed["status"] == "failed" and "detail-type" in failed["error"]
    assert _store(s3) == []


def test_a_store_the_function_may_not_write_fails_loudly_so_lambda_retries(s3):
    from handlers.arrival import handler

    key = "raw/notices/a.jsonl"
    s3.put_object(Bucket=demo.DATA_BUCKET, Key=key, Body=b'{"notice_id": "n", "received_at": "2025-10-01"}\n')
    os.environ["DSA_CURATED"] = "s3://no-such-curated-bucket/"
    with pytest.raises(Exception, match="no-such-curated-bucket"):
        handler(_event(s3, key), Context())


def test_a_new_version_with_quarantined_rows_mails_the_audience_once_and_only_it(s3):
    from handlers.arrival import handler

    audiences = (f"sender: {demo.SENDER}\naudiences:\n  - {{name: compliance, recipients: [compliance@shop.example]}}\n"
                 "  - {name: board, recipients: [board@shop.example]}\n")
    s3.put_object(Bucket=demo.DATA_BUCKET, Key="config.yaml", Body=(CONFIG + audiences).encode())
    os.environ["DSA_ARRIVAL_AUDIENCE"] = "compliance"
    before = len(demo.sent_messages())
    key = "raw/statements_of_reasons/2025/10/b.csv"
    s3.put_object(Bucket=demo.DATA_BUCKET, Key=key, Body=CSV.encode())
    assert handler(_event(s3, key), Context())["notice"] == "sent"
    [raw] = demo.sent_messages()[before:]
    message = email.message_from_string(raw, policy=email.policy.default)
    assert message["To"] == "compliance@shop.example" and message["From"] == demo.SENDER
    assert message["Subject"].strip() == ("[DSA] ExampleMarket: statements of reasons file landed with 1 row "
                                  "quarantined")
    text = message.get_body(("plain",)).get_content()
    assert f"File: s3://{demo.DATA_BUCKET}/{key}" in text and "- bad timestamp application_date: 1" in text
    assert "someday" not in raw  # the row's value stays out
    assert message.get_body(("html",)) is not None and message["X-DSA-Report-Arrival"]

    assert handler(_event(s3, key), Context())["notice"] is None  # the same version again: nothing sent
    part = next(k for k in _store(s3) if k.endswith(".parquet"))
    s3.delete_object(Bucket=demo.CURATED_BUCKET, Key=part)
    repaired = handler(_event(s3, key), Context())
    assert repaired["status"] == "repaired" and repaired["notice"] is None  # nothing new to say
    s3.put_object(Bucket=demo.DATA_BUCKET, Key=key, Body=CSV.replace("someday", "2025-10-04").encode())
    clean = handler(_event(s3, key, sequencer="02"), Context())
    assert clean["status"] == "written" and clean["notice"] is None  # a clean version owes none
    assert len(demo.sent_messages()) == before + 1

    s3.put_object(Bucket=demo.DATA_BUCKET, Key="config.yaml", Body=CONFIG.encode())  # no audience at all
    s3.put_object(Bucket=demo.DATA_BUCKET, Key=key, Body=CSV.encode())
    unsent = handler(_event(s3, key, sequencer="03"), Context())
    assert unsent["notice"] == "not sent: the config has no compliance audience"
    assert len(demo.sent_messages()) == before + 1
