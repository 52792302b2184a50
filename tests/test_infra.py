"""Offline checks of the SAM stack (template.yaml), its sample events, samconfig and deploy docs.

cfn-lint validates the template against the CloudFormation and SAM schemas. It does not expand SAM
(no aws-sam-translator), so it cannot see inside a ScheduleV2 event, and it does not judge what the IAM
policies grant. The structural tests below cover that: the schedules, their Input, storage hardening,
the ledger table, least privilege, alarms and outputs.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from dsa_report.engine import periods

ROOT = Path(__file__).resolve().parents[1]
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"  # `make lint` installs it (infra/requirements-checkov.txt)
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "infra" / "events"
SAMCONFIG = ROOT / "infra" / "samconfig.toml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
RELIABILITY_DOC = ROOT / "docs" / "reliability.md"
INFRA_README = ROOT / "infra" / "README.md"

# Properties of a SAM `ScheduleV2` event (samtranslator/model/eventsources/scheduler.py). cfn-lint does
# not check them, so a typo such as `ScheduleExpressionTimeZone` would otherwise deploy as "UTC".
SCHEDULE_V2_PROPERTIES = {
    "PermissionsBoundary", "ScheduleExpression", "FlexibleTimeWindow", "Name", "State", "Description",
    "StartDate", "EndDate", "ScheduleExpressionTimezone", "GroupName", "KmsKeyArn", "Input", "RoleArn",
    "DeadLetterConfig", "RetryPolicy", "OmitName",
}
SCHEDULES = {
    "Monthly": ("cron(0 6 2 * ? *)", "month"),
    "HalfYearly": ("cron(0 6 2 1,7 ? *)", "half-year"),
}
INPUT_KEYS = {"config", "period", "period_kind", "scheduled_time"}
DUMMY_REGION, DUMMY_ACCOUNT = "eu-west-1", "123456789012"


# --------------------------------------------------------------------------------------------------
# Loading the template: a YAML loader that turns CloudFormation short-form tags into their long form
# --------------------------------------------------------------------------------------------------
class CfnLoader(yaml.SafeLoader):
    """SafeLoader plus `!Ref`, `!GetAtt`, `!Sub`, `!If`... as {"Ref": ...} / {"Fn::Name": ...}."""


def _cfn_tag(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=CfnLoader)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


@pytest.fixture(scope="module")
def function(resources: dict[str, Any]) -> dict[str, Any]:
    return resources["DsaReportFunction"]


def _of_type(resources: dict[str, Any], type_: str) -> dict[str, Any]:
    return {name: res for name, res in resources.items() if res["Type"] == type_}


def _dummies(template: dict[str, Any]) -> dict[str, str]:
    """Values for every `${...}` a !Sub may name: parameter defaults (or a dummy), resource names, ARNs."""
    values = {"AWS::Region": DUMMY_REGION, "AWS::AccountId": DUMMY_ACCOUNT, "AWS::Partition": "aws",
              "AWS::StackName": "dsa-report"}
    for name, parameter in template["Parameters"].items():
        values[name] = str(parameter.get("Default") or f"dummy-{name.lower()}")
    for name in template["Resources"]:
        values[name] = f"dummy-{name.lower()}"
        values[f"{name}.Arn"] = f"arn:aws:dummy:::{name.lower()}"
    return values


def resolve_sub(value: Any, variables: dict[str, str]) -> str:
    """Evaluate an Fn::Sub (string form or [string, {extra vars}]) with the given variables."""
    if isinstance(value, list):
        text, extra = value
        variables = {**variables, **extra}
    else:
        text = value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        assert name in variables, f"!Sub names ${{{name}}}, which is neither a parameter nor a resource"
        return variables[name]

    return re.sub(r"\$\{([^}]+)\}", replace, text)


def _load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def _utc(text: str) -> datetime:
    assert text.endswith("Z"), f"{text!r}: Scheduler and EventBridge send UTC times ending in Z"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------------------------------
# cfn-lint
# --------------------------------------------------------------------------------------------------
def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AWS_DEFAULT_REGION": DUMMY_REGION}
    code = "import sys; from cfnlint.runner import main; sys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, "--regions", DUMMY_REGION, "--include-checks", "I", "--", str(path)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )


def test_template_passes_cfn_lint_with_no_errors_warnings_or_informational_findings() -> None:
    result = _cfn_lint(TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_cfn_lint_really_checks_the_template(tmp_path: Path) -> None:
    """Control: the same run on a template with a broken bucket property must fail."""
    broken = tmp_path / "template.yaml"
    text = TEMPLATE.read_text(encoding="utf-8")
    broken.write_text(text.replace("SSEAlgorithm: AES256", "SSEAlgorithm: AES257"), encoding="utf-8")
    result = _cfn_lint(broken)
    assert result.returncode != 0
    assert "AES257" in result.stdout


# --------------------------------------------------------------------------------------------------
# checkov: every skip is on its resource, with the reason
# --------------------------------------------------------------------------------------------------
def _checkov_skips(resources: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(resource, check id) -> comment, from each resource's `Metadata: checkov: skip:`."""
    skips = {}
    for name, resource in resources.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert set(skip) == {"id", "comment"}, f"{name}: a checkov skip has an id and a comment, nothing else"
            assert (name, skip["id"]) not in skips, f"{name} skips {skip['id']} twice"
            skips[(name, skip["id"])] = skip["comment"]
    return skips


def test_every_checkov_skip_says_why(resources: dict[str, Any]) -> None:
    skips = _checkov_skips(resources)
    assert skips, "no checkov skip found: the parser looks in the wrong place"
    for (name, check_id), comment in skips.items():
        assert re.fullmatch(r"CKV2?_AWS_\d+", check_id), f"{name}: {check_id!r} is not a checkov AWS check id"
        # a reason, not a placeholder: what protects the resource instead, or why the check does not apply
        assert len(comment.split()) >= 15, f"{name} {check_id}: the comment does not say why"


def test_checkov_passes_and_every_skip_is_still_needed(resources: dict[str, Any]) -> None:
    if not CHECKOV.exists():
        pytest.fail("checkov is not installed: `make lint` (run by `make test`) installs it into .venv/checkov")
    result = subprocess.run(
        [str(CHECKOV), "--file", str(TEMPLATE), "--framework", "cloudformation", "--skip-download",
         "--output", "json"],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )
    report = json.loads(result.stdout)
    failed = [(c["resource"], c["check_id"]) for c in report["results"]["failed_checks"]]
    assert not failed and result.returncode == 0, failed or result.stderr
    assert report["summary"]["parsing_errors"] == 0
    skipped = {(c["resource"].split(".", 1)[1], c["check_id"]) for c in report["results"]["skipped_checks"]}
    # a skip whose check now passes (or no longer exists) must go
    assert skipped == set(_checkov_skips(resources))


# --------------------------------------------------------------------------------------------------
# Shape of the stack
# --------------------------------------------------------------------------------------------------
def test_template_is_sam_with_one_state_machine_the_engine_choice(template: dict[str, Any],
                                                                  resources: dict[str, Any]) -> None:
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    types = [res["Type"] for res in resources.values()]
    assert "AWS::Serverless::StateMachine" not in types
    assert list(_of_type(resources, "AWS::StepFunctions::StateMachine")) == ["EngineChoiceStateMachine"]
    # the report function, the deadline check (a few lines of inline code, no package of its own) and the
    # arrival function (the report function's package, another handler)
    assert list(_of_type(resources, "AWS::Serverless::Function")) == [
        "DsaReportFunction", "ReportCheckFunction", "ArrivalFunction"]


def test_parameters(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    for required in ("SenderAddress", "SenderIdentityDomain"):
        assert "Default" not in params[required], f"{required} must be asked for, not defaulted"
    assert params["ConfigKey"]["Default"] == "config/examplemarket.yaml"
    assert params["ScheduleTimezone"]["Default"] == "Europe/Brussels"
    assert params["AlarmEmail"]["Default"] == ""
    for name in ("SenderAddress", "AlarmEmail", "ConfigKey"):
        pattern = params[name]["AllowedPattern"]
        assert re.fullmatch(pattern, params[name].get("Default") or "dsa-reports@example.com")
    assert not re.fullmatch(params["SenderAddress"]["AllowedPattern"], "not-an-address")
    # the config key is embedded in the schedules' JSON Input: quotes would break it
    assert not re.fullmatch(params["ConfigKey"]["AllowedPattern"], 'config/a"b.yaml')
    assert not re.fullmatch(params["ConfigKey"]["AllowedPattern"], "/config/x.yaml")


def test_globals(template: dict[str, Any]) -> None:
    fn = template["Globals"]["Function"]
    assert fn["Runtime"] == "python3.12"
    assert fn["Architectures"] in (["arm64"], ["x86_64"])
    assert fn["Tracing"] == "Active"
    assert fn["Environment"]["Variables"] == {
        "POWERTOOLS_SERVICE_NAME": "dsa-report",
        "POWERTOOLS_METRICS_NAMESPACE": "DSAReport",
        "LOG_LEVEL": "INFO",
    }


def test_function(template: dict[str, Any], function: dict[str, Any]) -> None:
    props = function["Properties"]
    assert function["Metadata"]["BuildMethod"] == "makefile"
    assert props["Handler"] == "handlers.scheduled.handler"
    assert props["CodeUri"] == "."
    assert props["MemorySize"] == 10240
    assert props["Timeout"] == 900
    assert props["EphemeralStorage"] == {"Size": 10240}
    env = props["Environment"]["Variables"]
    assert env["REPORTS_BUCKET"] == {"Ref": "ReportsBucket"}
    assert env["LEDGER_TABLE"] == {"Ref": "DeliveryLedgerTable"}
    assert env["DSA_WORKDIR"] == "/tmp/dsa"
    assert env["HOME"] == "/tmp"
    dummies = _dummies(template)
    assert resolve_sub(env["DSA_CONFIG"]["Fn::Sub"], dummies) == "s3://dummy-databucket/config/examplemarket.yaml"
    # the scheduled runs read the curated store (the whole bucket is the store)
    assert resolve_sub(env["DSA_CURATED"]["Fn::Sub"], dummies) == "s3://dummy-curatedbucket/"
    # failed asynchronous invocations reach the dead-letter queue through the on-failure destination
    # (test_event_invoke_config...), not a DeadLetterConfig as well, which would queue each failure twice
    assert "DeadLetterQueue" not in props


def test_event_invoke_config_retries_once_then_sends_the_failure_to_the_dead_letter_queue(
    resources: dict[str, Any], function: dict[str, Any]
) -> None:
    configs = [r["Properties"] for r in _of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
               if r["Properties"]["FunctionName"] == {"Ref": "DsaReportFunction"}]
    assert len(configs) == 1, "expected one EventInvokeConfig for the report function"
    (config,) = configs
    assert "EventInvokeConfig" not in function["Properties"], "one place for it, not SAM's property as well"
    assert config["Qualifier"] == "$LATEST"  # no alias or published version: the schedules invoke $LATEST
    # set on purpose below Lambda's default (2): a retry re-runs everything at 10 GB for up to 15 minutes
    assert config["MaximumRetryAttempts"] == 1
    # long enough for every attempt to run in full with Lambda's back-off, within Lambda's 6-hour ceiling
    timeout = function["Properties"]["Timeout"]
    attempts = config["MaximumRetryAttempts"] + 1
    assert attempts * timeout + 60 * attempts <= config["MaximumEventAgeInSeconds"] <= 6 * 3600
    assert config["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
    }


def test_logs_and_dead_letter_queue_outlive_the_stack(resources: dict[str, Any]) -> None:
    """A failed run's logs and its dead-letter message must survive `sam delete` and a replacement."""
    kept = {**_of_type(resources, "AWS::Logs::LogGroup"), **_of_type(resources, "AWS::SQS::Queue")}
    assert {"DsaReportLogGroup", "ArrivalLogGroup", "DeadLetterQueue"} <= set(kept)
    for name, resource in kept.items():
        assert resource.get("DeletionPolicy") == "Retain", name
        assert resource.get("UpdateReplacePolicy") == "Retain", name
    for name, group in _of_type(resources, "AWS::Logs::LogGroup").items():
        assert group["Properties"]["RetentionInDays"] >= 365, name
    # the log group the function writes to: Lambda's own name for it, so Lambda never creates it unmanaged
    log_name = resources["DsaReportLogGroup"]["Properties"]["LogGroupName"]
    assert log_name == {"Fn::Sub": "/aws/lambda/${DsaReportFunction}"}
    log_name = resources["ArrivalLogGroup"]["Properties"]["LogGroupName"]
    assert log_name == {"Fn::Sub": "/aws/lambda/${ArrivalFunction}"}


def test_reserved_concurrency_caps_the_function_and_zero_means_no_reservation(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    parameter = template["Parameters"]["ReservedConcurrency"]
    assert parameter["Type"] == "Number"
    # both schedules fire together on 2 January and 2 July: a cap of 1 would throttle one of them
    assert parameter["Default"] == 2 and parameter["MinValue"] == 0 and parameter["MaxValue"] <= 10
    # ReservedConcurrentExecutions: 0 would stop the function, so 0 leaves the property out instead
    assert function["Properties"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert template["Conditions"]["HasReservedConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ReservedConcurrency"}, "0"]}]
    }


def test_build_target_and_handler_module_exist(resources: dict[str, Any]) -> None:
    """`BuildMethod: makefile` runs build-<LogicalId>; the handler path must exist in what it copies."""
    sam_mk = (ROOT / "infra" / "sam.mk").read_text(encoding="utf-8")
    targets = {name for line in re.findall(r"^(build-[^:\n]+):", sam_mk, re.MULTILINE) for name in line.split()}
    assert "functions/handlers" in sam_mk and "functions/dsa_report" in sam_mk and "templates" in sam_mk
    assert "include infra/sam.mk" in (ROOT / "Makefile").read_text(encoding="utf-8")
    built = {name: fn for name, fn in _of_type(resources, "AWS::Serverless::Function").items()
             if fn.get("Metadata", {}).get("BuildMethod") == "makefile"}
    assert set(built) == {"DsaReportFunction", "ArrivalFunction"}
    for name, fn in built.items():
        assert f"build-{name}" in targets, f"infra/sam.mk has no target build-{name}"
        assert fn["Properties"]["CodeUri"] == "."
        module, function_name = fn["Properties"]["Handler"].rsplit(".", 1)
        source = (ROOT / "functions" / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
        assert re.search(rf"^def {function_name}\(", source, re.MULTILINE), fn["Properties"]["Handler"]


# --------------------------------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------------------------------
def _schedules(function: dict[str, Any]) -> dict[str, Any]:
    return {name: ev for name, ev in function["Properties"]["Events"].items() if ev["Type"] == "ScheduleV2"}


def test_two_schedules_with_timezone_retries_and_dead_letter_queue(
    function: dict[str, Any], resources: dict[str, Any]
) -> None:
    schedules = _schedules(function)
    assert set(schedules) == set(SCHEDULES)
    assert set(function["Properties"]["Events"]) == set(SCHEDULES), "no other trigger is expected"
    for name, (expression, _kind) in SCHEDULES.items():
        props = schedules[name]["Properties"]
        assert set(props) <= SCHEDULE_V2_PROPERTIES, f"{name}: unknown ScheduleV2 properties"
        assert props["ScheduleExpression"] == expression
        assert props["ScheduleExpressionTimezone"] == {"Ref": "ScheduleTimezone"}
        assert props["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
        # the string "OFF": unquoted, YAML 1.1 would read it as the boolean false
        assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
        dlq = props["DeadLetterConfig"]["Arn"]["Fn::GetAtt"]
        assert dlq[1] == "Arn" and resources[dlq[0]]["Type"] == "AWS::SQS::Queue"
        assert props.get("State", "ENABLED") in ("ENABLED", {"Ref": "ScheduleState"})
        # the stack's own group and role, not a role SAM would make with an unconditioned trust policy
        assert props["GroupName"] == {"Ref": "ScheduleGroup"}
        assert props["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}


def test_schedule_inputs_are_the_json_the_handler_expects(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    dummies = _dummies(template)
    for name, (_expression, kind) in SCHEDULES.items():
        raw = _schedules(function)[name]["Properties"]["Input"]
        payload = json.loads(resolve_sub(raw["Fn::Sub"], dummies))
        assert set(payload) == INPUT_KEYS, name
        assert payload["config"] == "s3://dummy-databucket/config/examplemarket.yaml"
        assert payload["period"] is None
        assert payload["period_kind"] == kind and kind in periods.KINDS
        assert payload["scheduled_time"] == "<aws.scheduler.scheduled-time>"


def test_schedules_fire_after_the_period_they_report_is_complete() -> None:
    """Both fire on the 2nd; with period null that is the month / half year that just ended."""
    assert periods.last_complete("month", date(2026, 12, 2)).label == "2026-11"
    assert periods.last_complete("half-year", date(2026, 7, 2)).label == "2026-H1"
    assert periods.last_complete("half-year", date(2027, 1, 2)).label == "2026-H2"


# --------------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bucket", ["DataBucket", "ReportsBucket", "CuratedBucket"])
def test_bucket_is_private_encrypted_versioned_and_tls_only(resources: dict[str, Any], bucket: str) -> None:
    res = resources[bucket]
    assert res["Type"] == "AWS::S3::Bucket"
    props = res["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms", "aws:kms:dsse")
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    # deleting the stack must not delete the data or the evidence
    assert res.get("DeletionPolicy") == "Retain"

    policies = [p for p in _of_type(resources, "AWS::S3::BucketPolicy").values()
                if p["Properties"]["Bucket"] == {"Ref": bucket}]
    assert len(policies) == 1, f"{bucket}: expected one bucket policy"
    statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    tls = [s for s in statements if s["Effect"] == "Deny"
           and str(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")).lower() == "false"]
    assert len(tls) == 1, f"{bucket}: no TLS-only deny statement"
    (deny,) = tls
    assert deny["Principal"] == "*" and deny["Action"] in ("s3:*", ["s3:*"])
    assert {"Fn::GetAtt": [bucket, "Arn"]} in deny["Resource"]
    assert {"Fn::Sub": f"${{{bucket}.Arn}}/*"} in deny["Resource"]


def test_reports_archive_keeps_versions_five_years_and_never_expires_current_reports(
    resources: dict[str, Any],
) -> None:
    rules = resources["ReportsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    enabled = [r for r in rules if r["Status"] == "Enabled"]
    noncurrent = [r["NoncurrentVersionExpiration"]["NoncurrentDays"] for r in enabled
                  if "NoncurrentVersionExpiration" in r]
    assert noncurrent and min(noncurrent) >= 5 * 365
    for rule in enabled:
        assert "ExpirationInDays" not in rule and "ExpirationDate" not in rule, rule
        for transition in rule.get("NoncurrentVersionTransitions", []):
            assert transition["StorageClass"] != "DEEP_ARCHIVE" or transition["TransitionInDays"] >= 365


def test_curated_store_is_derived_data_whose_replaced_parts_go_after_a_month(resources: dict[str, Any]) -> None:
    """`dsa-report curate` rebuilds the store from the data bucket: old versions of parts are not evidence."""
    rules = resources["CuratedBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    enabled = [r for r in rules if r["Status"] == "Enabled"]
    noncurrent = [r["NoncurrentVersionExpiration"]["NoncurrentDays"] for r in enabled
                  if "NoncurrentVersionExpiration" in r]
    assert noncurrent == [30]
    # a current part is what the runs read: no rule expires it
    for rule in enabled:
        assert "ExpirationInDays" not in rule and "ExpirationDate" not in rule, rule
    assert any(r.get("AbortIncompleteMultipartUpload") for r in enabled)


def test_the_data_bucket_sends_its_object_events_to_eventbridge(resources: dict[str, Any]) -> None:
    props = resources["DataBucket"]["Properties"]
    assert props["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    # the store itself sends none: the arrival function writes it, and must not be triggered by its own writes
    assert "NotificationConfiguration" not in resources["CuratedBucket"]["Properties"]


def test_delivery_ledger_table(resources: dict[str, Any]) -> None:
    table = resources["DeliveryLedgerTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "delivery_key", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "delivery_key", "AttributeType": "S"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


# --------------------------------------------------------------------------------------------------
# Least privilege
# --------------------------------------------------------------------------------------------------
def _policy_statements(node: Any) -> list[dict[str, Any]]:
    """Every IAM statement anywhere in the template (function policies, roles, bucket policies...)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "Statement" in node and isinstance(node["Statement"], list | dict):
            statements = node["Statement"] if isinstance(node["Statement"], list) else [node["Statement"]]
            found.extend(s for s in statements if isinstance(s, dict))
        for value in node.values():
            found.extend(_policy_statements(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_policy_statements(value))
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resource_label(resource: Any) -> str:
    if isinstance(resource, str):
        return resource
    if "Fn::GetAtt" in resource:
        return ".".join(resource["Fn::GetAtt"])
    if "Fn::Sub" in resource:
        return resource["Fn::Sub"]
    if "Ref" in resource:
        return resource["Ref"]
    raise AssertionError(f"unexpected resource form {resource!r}")


def test_no_allow_statement_grants_wildcards(template: dict[str, Any]) -> None:
    statements = _policy_statements(template["Resources"])
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert allows, "the function's policy statements were not found"
    for statement in allows:
        assert "NotAction" not in statement and "NotResource" not in statement, statement
        assert "NotPrincipal" not in statement, statement
        for action in _as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), f"wildcard action {action!r}"
        if "Principal" in statement:  # a trust policy: it names who may assume the role, not resources
            assert statement["Principal"] != "*" and statement["Action"] == "sts:AssumeRole", statement
            continue
        for resource in _as_list(statement["Resource"]):
            assert resource != "*", f"wildcard resource in {statement.get('Sid')}"
    # the only s3:* in the template is the TLS-only Deny of the bucket policies
    for statement in statements:
        if "s3:*" in _as_list(statement.get("Action", [])):
            assert statement["Effect"] == "Deny"


def test_scheduler_role_trusts_only_this_accounts_schedules_of_this_stacks_group(resources: dict[str, Any]) -> None:
    assert resources["ScheduleGroup"]["Type"] == "AWS::Scheduler::ScheduleGroup"
    role = resources["SchedulerRole"]
    assert role["Type"] == "AWS::IAM::Role"
    assert "RoleName" not in role["Properties"], "a named role would need CAPABILITY_NAMED_IAM"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    # confused deputy: only this account, and only schedules in the stack's own group (Scheduler presents
    # the group's ARN as aws:SourceArn; its guide says to scope to a group, not to one schedule)
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ScheduleGroup", "Arn"]}},
    }
    granted = {
        (action, _resource_label(resource))
        for policy in role["Properties"]["Policies"] for statement in policy["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]) for resource in _as_list(statement["Resource"])
    }
    # a ScheduleV2 event invokes the function it belongs to: the role may invoke those functions only
    scheduled = {f"{name}.Arn" for name, fn in _of_type(resources, "AWS::Serverless::Function").items()
                 if any(ev["Type"] == "ScheduleV2" for ev in fn["Properties"].get("Events", {}).values())}
    assert "DsaReportFunction.Arn" in scheduled
    assert granted == {("lambda:InvokeFunction", arn) for arn in scheduled} | {
        ("sqs:SendMessage", "DeadLetterQueue.Arn")}
    # every schedule of the stack uses this role in this group
    for fn in _of_type(resources, "AWS::Serverless::Function").values():
        for ev in fn["Properties"].get("Events", {}).values():
            if ev["Type"] != "ScheduleV2":
                continue
            assert ev["Properties"]["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
            assert ev["Properties"]["GroupName"] == {"Ref": "ScheduleGroup"}


def test_function_permissions_are_exactly_what_it_needs(function: dict[str, Any]) -> None:
    policies = function["Properties"]["Policies"]
    # inline documents only: SAM's CRUD policy templates grant more than the function uses
    assert all(isinstance(p, dict) and "Statement" in p for p in policies), policies
    granted = {
        (action, _resource_label(resource))
        for policy in policies for statement in policy["Statement"] if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]) for resource in _as_list(statement["Resource"])
    }
    ses_identity = (
        "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SenderIdentityDomain}"
    )
    ses_configuration_set = (
        "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/${ReportsConfigurationSet}"
    )
    assert granted == {
        ("s3:GetObject", "${DataBucket.Arn}/*"),
        ("s3:ListBucket", "DataBucket.Arn"),
        # the curated store: read only (the arrival function alone writes it)
        ("s3:GetObject", "${CuratedBucket.Arn}/*"),
        ("s3:ListBucket", "CuratedBucket.Arn"),
        ("s3:GetObject", "${ReportsBucket.Arn}/*"),
        ("s3:PutObject", "${ReportsBucket.Arn}/*"),
        ("s3:ListBucket", "ReportsBucket.Arn"),
        ("dynamodb:GetItem", "DeliveryLedgerTable.Arn"),
        ("dynamodb:PutItem", "DeliveryLedgerTable.Arn"),
        ("dynamodb:UpdateItem", "DeliveryLedgerTable.Arn"),
        ("dynamodb:DeleteItem", "DeliveryLedgerTable.Arn"),
        ("ses:SendEmail", ses_identity),
        ("ses:SendRawEmail", ses_identity),
        ("ses:SendEmail", ses_configuration_set),
        ("ses:SendRawEmail", ses_configuration_set),
        ("sqs:SendMessage", "DeadLetterQueue.Arn"),
    }
    # SES: only from the configured sender address, not any address of the identity's domain
    (ses,) = [st for policy in policies for st in policy["Statement"] if "ses:SendEmail" in _as_list(st["Action"])]
    assert ses["Condition"] == {"StringEqualsIgnoreCase": {"ses:FromAddress": {"Ref": "SenderAddress"}}}


def test_ses_configuration_set_requires_tls_and_the_function_is_given_it(
    template: dict[str, Any], resources: dict[str, Any], function: dict[str, Any]
) -> None:
    (name,) = _of_type(resources, "AWS::SES::ConfigurationSet")
    props = resources[name]["Properties"]
    # SES delivers only over TLS: never in clear text to a receiving server that does not offer it
    assert props["DeliveryOptions"]["TlsPolicy"] == "REQUIRE"
    assert props.get("SendingOptions", {}).get("SendingEnabled", True) is True
    assert function["Properties"]["Environment"]["Variables"]["SES_CONFIGURATION_SET"] == {"Ref": name}
    # the configuration set's ARN in the policy is built from the set's name (its Ref)
    assert resolve_sub(props["Name"]["Fn::Sub"], _dummies(template)) == "dsa-report-reports"
    statements = [st for policy in function["Properties"]["Policies"] for st in policy["Statement"]
                  if {"ses:SendEmail", "ses:SendRawEmail"} & set(_as_list(st["Action"]))]
    assert len(statements) == 1, "one SES statement, with its FromAddress condition"
    resources_named = [_resource_label(r) for r in _as_list(statements[0]["Resource"])]
    assert any(label.endswith(f":configuration-set/${{{name}}}") for label in resources_named)


# --------------------------------------------------------------------------------------------------
# Alarms and outputs
# --------------------------------------------------------------------------------------------------
def test_alarms_on_function_errors_and_dead_letter_queue(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    alarms = list(_of_type(resources, "AWS::CloudWatch::Alarm").values())
    topics = _of_type(resources, "AWS::SNS::Topic")
    assert len(topics) == 1
    (topic,) = topics

    for alarm in alarms:
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}]

    def find(namespace: str, metric: str, dimension: str | None = None) -> dict[str, Any]:
        matches = [a["Properties"] for a in alarms
                   if a["Properties"].get("Namespace") == namespace and a["Properties"].get("MetricName") == metric
                   and (dimension is None or a["Properties"]["Dimensions"][0]["Value"] == {"Ref": dimension})]
        assert len(matches) == 1, f"expected one alarm on {namespace} {metric} {dimension or ''}"
        return matches[0]

    for function_name in ("DsaReportFunction", "ArrivalFunction"):
        errors = find("AWS/Lambda", "Errors", function_name)
        assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_name}}]
        assert errors["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and errors["Threshold"] == 1
        assert errors["Statistic"] == "Sum" and errors["TreatMissingData"] == "notBreaching"
    depth = find("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    queue_name = {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}
    assert depth["Dimensions"] == [{"Name": "QueueName", "Value": queue_name}]
    assert depth["ComparisonOperator"] == "GreaterThanThreshold" and depth["Threshold"] == 0

    # the e-mail subscription exists only when AlarmEmail is given
    (subscription,) = _of_type(resources, "AWS::SNS::Subscription").values()
    condition = subscription["Condition"]
    assert template["Conditions"][condition] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic}


def _handler_metrics(handler: str = "scheduled") -> tuple[str, str]:
    """Namespace and service of the `Metrics(...)` object in functions/handlers/<handler>.py (read, not run)."""
    source = (ROOT / "functions" / "handlers" / f"{handler}.py").read_text(encoding="utf-8")
    calls = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id == "Metrics"]
    assert len(calls) == 1, "the handler has one Powertools Metrics object"
    keywords = {k.arg: k.value.value for k in calls[0].keywords if isinstance(k.value, ast.Constant)}
    return keywords["namespace"], keywords["service"]


def _emitted_metric_names(handler: str) -> set[str]:
    """The names of the metrics functions/handlers/<handler>.py adds (`add_metric(name="...")`, read, not run)."""
    source = (ROOT / "functions" / "handlers" / f"{handler}.py").read_text(encoding="utf-8")
    return {k.value.value for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr == "add_metric"
            for k in node.keywords if k.arg == "name" and isinstance(k.value, ast.Constant)}


def _emf_dimensions(namespace: str, service: str, metric: str) -> tuple[str, list[dict[str, str]]]:
    """The namespace and dimensions Powertools puts in CloudWatch for that metric of that Metrics object:
    an alarm must name exactly these."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    emitter = Metrics(namespace=namespace, service=service)
    emitter.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    emf = emitter.serialize_metric_set()["_aws"]["CloudWatchMetrics"][0]
    emitter.clear_metrics()
    return emf["Namespace"], [{"Name": name, "Value": service} for name in emf["Dimensions"][0]]


@pytest.mark.parametrize("metric", ["UnreadableFiles", "DeliveryUnknown", "RunFailed"])
def test_alarm_on_a_metric_of_the_report_function(
    template: dict[str, Any], resources: dict[str, Any], metric: str
) -> None:
    """Unreadable files, ambiguous deliveries and runs that failed without raising alarm on the run that
    reports them."""
    namespace, service = _handler_metrics()
    assert namespace == template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    assert metric in _emitted_metric_names("scheduled"), f"functions/handlers/scheduled.py emits no {metric}"
    emf_namespace, dimensions = _emf_dimensions(namespace, service, metric)
    assert dimensions == [{"Name": "service", "Value": service}]

    matches = [a["Properties"] for a in _of_type(resources, "AWS::CloudWatch::Alarm").values()
               if a["Properties"].get("MetricName") == metric]
    assert len(matches) == 1, f"expected one alarm on {metric}"
    (alarm,) = matches
    assert alarm["Namespace"] == emf_namespace and alarm["Dimensions"] == dimensions
    assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    # a run that reports none emits nothing (or 0): no data is not a problem
    assert alarm["TreatMissingData"] == "notBreaching"


def test_the_success_metric_the_deadline_check_is_chosen_over_is_what_the_handler_emits() -> None:
    """The template explains why no alarm watches EmailsSent; that metric must be the handler's."""
    source = (ROOT / "functions" / "handlers" / "scheduled.py").read_text(encoding="utf-8")
    assert 'name="EmailsSent"' in source and _handler_metrics()[0] == "DSAReport"
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "EmailsSent in namespace DSAReport" in text


# --------------------------------------------------------------------------------------------------
# Deadline check: a report of the period that just ended must be in the archive by the 3rd
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def check(resources: dict[str, Any]) -> dict[str, Any]:
    return resources["ReportCheckFunction"]


def _check_module(check: dict[str, Any]) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(check["Properties"]["InlineCode"], "index.py", "exec"), namespace)  # noqa: S102
    return namespace


def test_deadline_check_runs_on_the_3rd_and_alarms_when_it_raises(
    template: dict[str, Any], resources: dict[str, Any], function: dict[str, Any], check: dict[str, Any]
) -> None:
    props = check["Properties"]
    assert props["Handler"] == "index.handler" and "CodeUri" not in props
    assert props["Environment"]["Variables"] == {"REPORTS_BUCKET": {"Ref": "ReportsBucket"}}
    assert props["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", 1, {"Ref": "AWS::NoValue"}]
    }
    # it may list the archive, nothing else
    (policy,) = props["Policies"]
    assert [(s["Effect"], s["Action"], s["Resource"]) for s in policy["Statement"]] == [
        ("Allow", "s3:ListBucket", {"Fn::GetAtt": ["ReportsBucket", "Arn"]})
    ]
    (event,) = props["Events"].values()
    assert event["Type"] == "ScheduleV2"
    schedule = event["Properties"]
    assert set(schedule) <= SCHEDULE_V2_PROPERTIES
    # a day after both report schedules (the 2nd, 06:00), in the same time zone, paused with them
    assert schedule["ScheduleExpression"] == "cron(0 6 3 * ? *)"
    for report in _schedules(function).values():
        assert report["Properties"]["ScheduleExpression"].startswith("cron(0 6 2 ")
        for key in ("ScheduleExpressionTimezone", "State", "RetryPolicy", "DeadLetterConfig", "FlexibleTimeWindow"):
            assert schedule[key] == report["Properties"][key], key
    assert json.loads(schedule["Input"]) == {"scheduled_time": "<aws.scheduler.scheduled-time>"}
    # no retry (the first error is the alarm), and an event is not dropped before Lambda's 6 hours
    (config,) = [r["Properties"] for r in _of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
                 if r["Properties"]["FunctionName"] == {"Ref": "ReportCheckFunction"}]
    assert config["MaximumRetryAttempts"] == 0 and config["MaximumEventAgeInSeconds"] == 6 * 3600
    (alarm,) = [a["Properties"] for a in _of_type(resources, "AWS::CloudWatch::Alarm").values()
                if a["Properties"].get("Dimensions", [{}])[0].get("Value") == {"Ref": "ReportCheckFunction"}]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert resources["ReportCheckLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/${ReportCheckFunction}"
    }


def test_deadline_check_code_is_small_and_lint_clean(check: dict[str, Any]) -> None:
    code = check["Properties"]["InlineCode"]
    assert len(code) <= 4096, "CloudFormation takes at most 4,096 characters of inline code"
    result = subprocess.run([str(ROOT / ".venv" / "bin" / "ruff"), "check", "--stdin-filename",
                             "infra/report_check_index.py", "-"],
                            input=code, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("utc_offset_hours", [-12, -5, 0, 1, 2, 9, 14])
def test_deadline_check_expects_the_periods_the_report_schedules_produced(
    check: dict[str, Any], utc_offset_hours: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In any time zone, the check looks for exactly the periods the runs of the 2nd reported."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", DUMMY_REGION)
    expected_periods = _check_module(check)["expected_periods"]
    zone = timezone(timedelta(hours=utc_offset_hours))
    for year in (2026, 2027, 2028):  # 2028: a leap February
        for month in range(1, 13):
            report_day = date(year, month, 2)
            fired = datetime(year, month, 3, 6, tzinfo=zone).astimezone(UTC)
            wanted = [periods.last_complete("month", report_day).label]
            if month in (1, 7):
                wanted.append(periods.last_complete("half-year", report_day).label)
            assert expected_periods(fired) == wanted, (fired, wanted)


@pytest.fixture()
def archive(monkeypatch: pytest.MonkeyPatch) -> Any:
    from moto import mock_aws
    monkeypatch.setenv("AWS_DEFAULT_REGION", DUMMY_REGION)
    monkeypatch.setenv("REPORTS_BUCKET", "reports")
    with mock_aws():
        import boto3
        s3 = boto3.client("s3", region_name=DUMMY_REGION)
        s3.create_bucket(Bucket="reports", CreateBucketConfiguration={"LocationConstraint": DUMMY_REGION})
        yield s3


def test_deadline_check_passes_when_the_reports_are_archived(check: dict[str, Any], archive: Any) -> None:
    handler = _check_module(check)["handler"]
    for key in ("ExampleMarket/2026-12/sched-20270102T050000Z/manifest.json",
                "ExampleMarket/2026-12/sched-20270102T050000Z/findings.json",
                "ExampleMarket/2026-H2/20270102T091500Z-1a2b3c4d/manifest.json",
                "OtherMarket/2026-11/sched-20261202T050000Z/manifest.json"):
        archive.put_object(Bucket="reports", Key=key, Body=b"{}")
    found = handler({"scheduled_time": "2027-01-03T05:00:00Z"}, None)
    assert found == {"2026-12": "ExampleMarket/2026-12/sched-20270102T050000Z/manifest.json",
                     "2026-H2": "ExampleMarket/2026-H2/20270102T091500Z-1a2b3c4d/manifest.json"}


@pytest.mark.parametrize(("keys", "missing"), [
    ([], "2026-12, 2026-H2"),  # nothing archived at all
    (["ExampleMarket/2026-12/sched-1/manifest.json"], "2026-H2"),  # the half-year run failed
    # a run that stopped before its manifest, a manifest in the wrong place, the period before
    (["ExampleMarket/2026-12/sched-1/findings.json", "ExampleMarket/2026-12/manifest.json",
      "ExampleMarket/2026-11/sched-1/manifest.json", "ExampleMarket/2026-H2/x/evidence/manifest.json"],
     "2026-12, 2026-H2"),
])
def test_deadline_check_raises_for_each_missing_report(
    check: dict[str, Any], archive: Any, keys: list[str], missing: str
) -> None:
    handler = _check_module(check)["handler"]
    for key in keys:
        archive.put_object(Bucket="reports", Key=key, Body=b"{}")
    with pytest.raises(RuntimeError, match=f"for {re.escape(missing)}$"):
        handler({"scheduled_time": "2027-01-03T05:00:00Z"}, None)


def test_outputs_name_everything_an_operator_needs(template: dict[str, Any]) -> None:
    values = [output["Value"] for output in template["Outputs"].values()]
    for expected in (
        {"Ref": "DsaReportFunction"},
        {"Fn::GetAtt": ["DsaReportFunction", "Arn"]},
        {"Ref": "DataBucket"},
        {"Ref": "ReportsBucket"},
        {"Ref": "DeliveryLedgerTable"},
        {"Ref": "DeadLetterQueue"},  # Ref of an SQS queue is its URL
        {"Ref": "CuratedBucket"},
        {"Ref": "ArrivalFunction"},
    ):
        assert expected in values, f"no output for {expected}"


# --------------------------------------------------------------------------------------------------
# Sample events
# --------------------------------------------------------------------------------------------------
EVENT_FILES = {
    "scheduled.json", "scheduled-half-year.json", "manual.json", "manual-dry-run.json",
    "eventbridge-scheduled-event.json",
}


def test_every_event_file_is_a_json_object() -> None:
    names = {path.name for path in EVENTS.glob("*.json")}
    assert EVENT_FILES <= names
    for path in EVENTS.iterdir():
        assert path.suffix == ".json", f"{path.name}: infra/events holds JSON events only"
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict), path.name


@pytest.mark.parametrize(("name", "schedule"), [("scheduled.json", "Monthly"),
                                                ("scheduled-half-year.json", "HalfYearly")])
def test_scheduled_events_are_what_the_schedules_send(
    template: dict[str, Any], function: dict[str, Any], name: str, schedule: str
) -> None:
    event = _load_event(name)
    sent = json.loads(resolve_sub(_schedules(function)[schedule]["Properties"]["Input"]["Fn::Sub"],
                                  _dummies(template)))
    assert set(event) == set(sent) == INPUT_KEYS
    assert event["period"] is None and event["period_kind"] == sent["period_kind"]
    assert re.fullmatch(r"s3://[a-z0-9.-]+/config/[^\s]+\.ya?ml", event["config"])
    fired = _utc(event["scheduled_time"])
    # 06:00 in Brussels on the 2nd (05:00Z in winter, 04:00Z in summer)
    assert fired.day == 2 and fired.hour in (4, 5) and fired.minute == 0
    if schedule == "HalfYearly":
        assert fired.month in (1, 7)


@pytest.mark.parametrize(("name", "send"), [("manual.json", True), ("manual-dry-run.json", False)])
def test_manual_events(name: str, send: bool) -> None:
    event = _load_event(name)
    assert set(event) == {"config", "period", "send"}
    assert event["send"] is send
    assert event["config"].startswith("s3://")
    assert periods.parse_period(event["period"]).label == event["period"]


def test_classic_eventbridge_scheduled_event() -> None:
    event = _load_event("eventbridge-scheduled-event.json")
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["version"] == "0" and event["detail"] == {}
    assert re.fullmatch(r"\d{12}", event["account"])
    assert event["region"] == DUMMY_REGION
    assert all(r.startswith("arn:aws:events:") for r in event["resources"])
    assert _utc(event["time"]).day == 2


def _function_env(template: dict[str, Any], function: dict[str, Any]) -> dict[str, str]:
    """The function's environment as deployed (Globals merged), with !Ref/!Sub resolved to dummies."""
    dummies = _dummies(template)
    merged = {**template["Globals"]["Function"]["Environment"]["Variables"],
              **function["Properties"]["Environment"]["Variables"]}
    env = {}
    for name, value in merged.items():
        if isinstance(value, dict) and "Ref" in value:
            value = dummies[value["Ref"]]
        elif isinstance(value, dict) and "Fn::Sub" in value:
            value = resolve_sub(value["Fn::Sub"], dummies)
        env[name] = str(value)
    return env


@pytest.mark.parametrize(("name", "period", "trigger", "send"), [
    ("scheduled.json", "2026-11", "schedule", True),
    ("scheduled-half-year.json", "2026-H1", "schedule", True),
    ("eventbridge-scheduled-event.json", "2026-11", "schedule", True),
    ("manual.json", "2025-H1", "manual", True),
    ("manual-dry-run.json", "2025-H1", "manual", False),
])
def test_handler_event_parser_accepts_every_sample_event(
    template: dict[str, Any], function: dict[str, Any], name: str, period: str, trigger: str, send: bool
) -> None:
    """The samples, read with the environment the template gives the function, are valid invocations."""
    from dsa_report.app import events
    env = _function_env(template, function)
    invocation = events.parse_event(_load_event(name), env, request_id="req-1",
                                    now=datetime(2027, 3, 15, tzinfo=UTC))
    assert invocation.period.label == period
    assert invocation.trigger == trigger
    assert invocation.send is send
    # the classic shape has no config: the function falls back to the template's DSA_CONFIG
    expected = env["DSA_CONFIG"] if name.startswith("eventbridge") else _load_event(name)["config"]
    assert invocation.config_uri == expected


def test_handler_event_parser_accepts_what_the_schedules_send(
    template: dict[str, Any], function: dict[str, Any]
) -> None:
    from dsa_report.app import events
    env = _function_env(template, function)
    for name, (_expression, kind) in SCHEDULES.items():
        raw = _schedules(function)[name]["Properties"]["Input"]["Fn::Sub"]
        sent = resolve_sub(raw, _dummies(template)).replace("<aws.scheduler.scheduled-time>",
                                                            "2027-01-02T05:00:00Z")
        invocation = events.parse_event(json.loads(sent), env, request_id="req-1",
                                        now=datetime(2027, 1, 2, 5, 0, 3, tzinfo=UTC))
        assert invocation.period.kind == kind
        assert invocation.period.label == {"month": "2026-12", "half-year": "2026-H2"}[kind]
        assert invocation.trigger == "schedule" and invocation.send is True
        assert invocation.trigger_time == "2027-01-02T05:00:00Z"
        assert invocation.config_uri == env["DSA_CONFIG"]


# --------------------------------------------------------------------------------------------------
# samconfig and docs
# --------------------------------------------------------------------------------------------------
def test_samconfig_defaults(template: dict[str, Any]) -> None:
    config = tomllib.loads(SAMCONFIG.read_text(encoding="utf-8"))
    assert config["version"] == 0.1
    glob = config["default"]["global"]["parameters"]
    assert glob["stack_name"] == "dsa-report" and glob["region"] == "eu-west-1"
    deploy = config["default"]["deploy"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["confirm_changeset"] is True
    assert deploy["resolve_s3"] is True
    overrides = dict(re.findall(r'(\w+)="([^"]*)"', deploy.get("parameter_overrides", "")))
    assert set(overrides) <= set(template["Parameters"]), "samconfig overrides an unknown parameter"
    for name, value in overrides.items():
        parameter = template["Parameters"][name]
        assert value in parameter.get("AllowedValues", [value])
        if "AllowedPattern" in parameter:
            assert re.fullmatch(parameter["AllowedPattern"], value)


def test_docs_cover_every_parameter_output_and_event(template: dict[str, Any]) -> None:
    deploy = DEPLOY_DOC.read_text(encoding="utf-8")
    for name in [*template["Parameters"], *template["Outputs"]]:
        assert f"`{name}`" in deploy, f"docs/deploy.md does not explain {name}"
    for needed in ("sam build", "sam deploy --guided", "aws lambda invoke", "manual.json", "manifest.json",
                   "DeliveryLedgerTable", "sandbox"):
        assert needed in deploy, needed
    readme = INFRA_README.read_text(encoding="utf-8")
    for path in EVENTS.glob("*.json"):
        assert f"events/{path.name}" in readme, f"infra/README.md does not list {path.name}"


def test_reliability_doc_names_every_alarm_and_only_tests_that_exist(resources: dict[str, Any]) -> None:
    text = RELIABILITY_DOC.read_text(encoding="utf-8")
    section = text.split("\n## Infrastructure\n", 1)[1].split("\n## ", 1)[0]
    deploy = DEPLOY_DOC.read_text(encoding="utf-8")
    for name in _of_type(resources, "AWS::CloudWatch::Alarm"):
        assert f"`{name}`" in section and f"`{name}`" in deploy, f"{name} is not documented"
    tests = {name for name in globals() if name.startswith("test_")}
    cited = re.findall(r"`(test_\w+?)(\*|…)?`", section)
    assert cited
    for name, prefix in cited:
        assert (any(t.startswith(name) for t in tests) if prefix else name in tests), f"no test {name}"


# --------------------------------------------------------------------------------------------------
# Beyond one Lambda: the engine-choice state machine and the Spark job on EMR Serverless
# --------------------------------------------------------------------------------------------------
def _engine_choice(template: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(the state machine's definition, as JSON with its DefinitionSubstitutions filled with dummies)."""
    machine = template["Resources"]["EngineChoiceStateMachine"]["Properties"]
    dummies = _dummies(template)
    values = {"CuratedBucket": "dsa-curated", "ReportsBucket": "dsa-reports", "LedgerTable": "dsa-ledger",
              "ReportFunction": "arn:aws:lambda:eu-west-1:123456789012:function:dsa-report",
              "SparkApplication": "00fabc123", "SparkJobRole": "arn:aws:iam::123456789012:role/spark-job",
              "SparkAboveBytes": dummies["SparkAboveBytes"], "SparkCode": "s3://dsa-data/spark/",
              "ConfigurationSet": "dsa-report-reports"}
    assert set(machine["DefinitionSubstitutions"]) == set(values)
    text = json.dumps(machine["Definition"])
    used = set(re.findall(r"\$\{([A-Za-z]+)\}", text))
    assert used == set(values), "every substitution is used, and only substitutions are"
    return machine["Definition"], re.sub(r"\$\{([A-Za-z]+)\}", lambda m: values[m.group(1)], text)


def test_the_engine_choice_state_machine_is_accepted_by_step_functions(template: dict[str, Any]) -> None:
    """moto's ASL parser (LocalStack's, on when moto executes state machines) accepts the definition and
    refuses a malformed one. It does not evaluate JSONata (that needs a JVM bridge): the tests below pin
    the expressions' shape."""
    import boto3
    from moto import mock_aws

    _, definition = _engine_choice(template)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        client = boto3.client("stepfunctions", region_name=DUMMY_REGION)
        role = f"arn:aws:iam::{DUMMY_ACCOUNT}:role/engine-choice"
        arn = client.create_state_machine(name="engine-choice", definition=definition, roleArn=role)["stateMachineArn"]
        assert json.loads(client.describe_state_machine(stateMachineArn=arn)["definition"])["StartAt"] == "Measure"
        broken = definition.replace('"Type": "Choice"', '"Type": "Choise"')
        with pytest.raises(client.exceptions.ClientError):
            client.create_state_machine(name="broken", definition=broken, roleArn=role)


def test_the_engine_is_chosen_from_every_page_of_the_periods_size(template: dict[str, Any]) -> None:
    definition, _ = _engine_choice(template)
    states = definition["States"]
    assert definition["StartAt"] == "Measure"
    for name in ("Measure", "MeasureNext"):
        assert states[name]["Resource"] == "arn:aws:states:::aws-sdk:s3:listObjectsV2"
        assert states[name]["Next"] == "Choose"
    assert "$bytes +" in states["MeasureNext"]["Assign"]["bytes"]  # pages add up
    # the whole curated store, whatever the input: at the scheduled time a period's run reads all of it
    for name in ("Measure", "MeasureNext"):
        assert states[name]["Arguments"]["Bucket"] == "${CuratedBucket}"
        assert "Prefix" not in states[name]["Arguments"]
    assert "curated" not in json.dumps(definition["States"]["Measure"]["Assign"])
    choices = states["Choose"]["Choices"]
    assert [c["Next"] for c in choices] == ["MeasureNext", "Spark"]  # every page first, then the size
    assert choices[1]["Condition"] == "{% $bytes > ${SparkAboveBytes} %}"
    assert states["Choose"]["Default"] == "Lambda"
    assert states["Spark"]["Resource"] == "arn:aws:states:::emr-serverless:startJobRun.sync"
    assert states["Lambda"]["Resource"] == "arn:aws:states:::lambda:invoke"


def test_the_function_gets_only_keys_its_event_parser_knows(template: dict[str, Any]) -> None:
    payload = _engine_choice(template)[0]["States"]["Lambda"]["Arguments"]["Payload"]
    keys = set(re.findall(r'"([a-z_]+)":', payload))
    assert keys == {"config", "period", "send", "scheduled_time"}
    assert keys <= {"config", "period", "period_kind", "scheduled_time", "send", "source", "trigger_time"}


def test_the_spark_job_gets_only_arguments_it_knows(template: dict[str, Any]) -> None:
    from dsa_report.app import spark_job

    submit = _engine_choice(template)[0]["States"]["Spark"]["Arguments"]["JobDriver"]["SparkSubmit"]
    assert submit["EntryPoint"] == "${SparkCode}main.py"
    assert (ROOT / "infra" / "spark" / "main.py").exists()
    given = set(re.findall(r'"(--[a-z-]+)"', submit["EntryPointArguments"]))
    known = {f"--{name.replace('_', '-')}" for name in vars(spark_job.parse_args(
        ["--curated", "x", "--config", "y", "--period", "z"]))}
    assert given <= known and {"--curated", "--config", "--period", "--reports-bucket"} <= given
    # the store is the curated bucket, the one the report function reads (DSA_CURATED)
    assert '"--curated", "s3://${CuratedBucket}/"' in submit["EntryPointArguments"]
    assert "environment.tar.gz#environment" in submit["SparkSubmitParameters"]
    # the job sends with the TLS-only configuration set, as the function does (Settings reads the driver's env)
    assert ("--conf spark.emr-serverless.driverEnv.SES_CONFIGURATION_SET=${ConfigurationSet}"
            in submit["SparkSubmitParameters"])


def test_the_spark_application_runs_the_spark_of_the_local_tests(resources: dict[str, Any]) -> None:
    app = resources["SparkApplication"]["Properties"]
    pinned = re.search(r"^pyspark==(\S+)", (ROOT / "requirements-dev.txt").read_text(), re.M).group(1)
    assert app["ReleaseLabel"] == "emr-7.10.0" and pinned == "3.5.5"  # EMR Serverless 7.10.0 ships Spark 3.5.5
    assert app["AutoStopConfiguration"] == {"Enabled": True, "IdleTimeoutMinutes": 15}


def test_the_spark_job_role_grants_no_more_than_the_function(resources: dict[str, Any]) -> None:
    def actions(statements: list[dict]) -> set[str]:
        found = set()
        for st in statements:
            found |= {st["Action"]} if isinstance(st["Action"], str) else set(st["Action"])
        return found

    job = resources["SparkJobRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    function = resources["DsaReportFunction"]["Properties"]["Policies"][0]["Statement"]
    assert actions(job) <= actions(function)
    assert all(st["Resource"] != "*" for st in job)
    s3_grants = {(action, _resource_label(resource)) for st in job for action in _as_list(st["Action"])
                 if action.startswith("s3:") for resource in _as_list(st["Resource"])}
    # the config and the code from the data bucket (no listing: it reads no raw data), the store, the archive
    assert s3_grants == {
        ("s3:GetObject", "${DataBucket.Arn}/*"),
        ("s3:GetObject", "${CuratedBucket.Arn}/*"),
        ("s3:ListBucket", "CuratedBucket.Arn"),
        ("s3:GetObject", "${ReportsBucket.Arn}/*"),
        ("s3:PutObject", "${ReportsBucket.Arn}/*"),
        ("s3:ListBucket", "ReportsBucket.Arn"),
    }


def test_the_engine_choice_role_measures_the_curated_store_and_runs_one_engine(resources: dict[str, Any]) -> None:
    (policy,) = resources["EngineChoiceRole"]["Properties"]["Policies"]
    granted = {(action, _resource_label(resource)) for st in policy["PolicyDocument"]["Statement"]
               for action in _as_list(st["Action"]) for resource in _as_list(st["Resource"])}
    assert {g for g in granted if g[0].startswith("s3:")} == {("s3:ListBucket", "CuratedBucket.Arn")}
    assert ("lambda:InvokeFunction", "DsaReportFunction.Arn") in granted
    assert ("iam:PassRole", "SparkJobRole.Arn") in granted


# --------------------------------------------------------------------------------------------------
# Ingest on arrival: the arrival function, its EventBridge rule and alarms, the curated store
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def arrival(resources: dict[str, Any]) -> dict[str, Any]:
    return resources["ArrivalFunction"]


def _granted(policies: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {
        (action, _resource_label(resource))
        for policy in policies for statement in policy["Statement"] if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]) for resource in _as_list(statement["Resource"])
    }


def test_arrival_function(template: dict[str, Any], resources: dict[str, Any], function: dict[str, Any],
                          arrival: dict[str, Any]) -> None:
    props = arrival["Properties"]
    assert arrival["Metadata"]["BuildMethod"] == "makefile" and props["CodeUri"] == function["Properties"]["CodeUri"]
    assert props["Handler"] == "handlers.arrival.handler"
    # one object per event, but a multi-GB zip: DuckDB in memory, spilling to /tmp, within Lambda's 15 minutes
    assert 3008 <= props["MemorySize"] <= 10240
    assert props["Timeout"] == 900 and props["EphemeralStorage"] == {"Size": 10240}
    # no reservation (a cap would age a bulk upload's events into the dead-letter queue); checkov is told why
    assert "ReservedConcurrentExecutions" not in props
    assert ("ArrivalFunction", "CKV_AWS_115") in _checkov_skips(resources)
    assert "DeadLetterQueue" not in props and "EventInvokeConfig" not in props
    env = _function_env(template, arrival)
    report_env = _function_env(template, function)
    # the same config and store as the report function: what it writes is what the runs read
    assert env["DSA_CONFIG"] == report_env["DSA_CONFIG"] == "s3://dummy-databucket/config/examplemarket.yaml"
    assert env["DSA_CURATED"] == report_env["DSA_CURATED"] == "s3://dummy-curatedbucket/"
    assert env["DSA_WORKDIR"] == "/tmp/dsa" and env["HOME"] == "/tmp"
    from dsa_report.app.settings import Settings
    settings = Settings.from_env(env)
    assert settings.config_uri and settings.curated_uri and settings.workdir == "/tmp/dsa"
    assert env["POWERTOOLS_SERVICE_NAME"] == _handler_metrics("arrival")[1]


def test_arrival_function_permissions_are_exactly_what_it_needs(arrival: dict[str, Any]) -> None:
    policies = arrival["Properties"]["Policies"]
    assert all(isinstance(p, dict) and "Statement" in p for p in policies), policies
    assert _granted(policies) == {
        # the config and the one object that landed; the source adapter lists its key as a prefix
        ("s3:GetObject", "${DataBucket.Arn}/*"),
        ("s3:ListBucket", "DataBucket.Arn"),
        # the store: records read, parts and records written, replaced or deleted parts deleted
        ("s3:GetObject", "${CuratedBucket.Arn}/*"),
        ("s3:PutObject", "${CuratedBucket.Arn}/*"),
        ("s3:DeleteObject", "${CuratedBucket.Arn}/*"),
        ("s3:ListBucket", "CuratedBucket.Arn"),
        # the arrival notice, through the sender identity and the reports' configuration set
        *((action, f"arn:${{AWS::Partition}}:ses:${{AWS::Region}}:${{AWS::AccountId}}:{resource}")
          for action in ("ses:SendEmail", "ses:SendRawEmail")
          for resource in ("identity/${SenderIdentityDomain}", "configuration-set/${ReportsConfigurationSet}")),
        # the on-failure destination
        ("sqs:SendMessage", "DeadLetterQueue.Arn"),
    }
    # never writes the data bucket or the archive; e-mail only from the one sender address
    conditioned = [st for policy in policies for st in policy["Statement"] if st.get("Condition")]
    assert [st["Sid"] for st in conditioned] == ["SendArrivalNoticeAsSenderIdentity"]
    assert conditioned[0]["Condition"] == {"StringEqualsIgnoreCase": {"ses:FromAddress": {"Ref": "SenderAddress"}}}
    variables = arrival["Properties"]["Environment"]["Variables"]
    assert variables["DSA_ARRIVAL_AUDIENCE"] == {"Ref": "ArrivalNoticeAudience"}
    assert variables["SES_CONFIGURATION_SET"] == {"Ref": "ReportsConfigurationSet"}


def test_arrival_event_invoke_config_retries_then_sends_the_failure_to_the_dead_letter_queue(
    resources: dict[str, Any], arrival: dict[str, Any]
) -> None:
    (config,) = [r["Properties"] for r in _of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
                 if r["Properties"]["FunctionName"] == {"Ref": "ArrivalFunction"}]
    assert config["Qualifier"] == "$LATEST"
    assert config["MaximumRetryAttempts"] == 2
    attempts = config["MaximumRetryAttempts"] + 1
    assert attempts * arrival["Properties"]["Timeout"] <= config["MaximumEventAgeInSeconds"] <= 6 * 3600
    assert config["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}}
    }


def _arrival_rule(template: dict[str, Any], arrival: dict[str, Any], bucket: str) -> Any:
    """The rule's event pattern with the data bucket's name filled in, as EventBridge matches it (moto's)."""
    from moto.events.models import EventPattern

    (event,) = arrival["Properties"]["Events"].values()
    assert event["Type"] == "EventBridgeRule"
    assert set(event["Properties"]) <= {"Pattern", "EventBusName", "RuleName", "State", "RetryPolicy",
                                        "DeadLetterConfig", "Target", "Input", "InputPath", "InputTransformer"}
    assert "EventBusName" not in event["Properties"], "S3 sends its events to the default bus"
    # the handler reads the whole event: no Input, InputPath or InputTransformer may reshape it
    assert not {"Input", "InputPath", "InputTransformer"} & set(event["Properties"])
    pattern = json.loads(json.dumps(event["Properties"]["Pattern"]).replace('{"Ref": "DataBucket"}', f'"{bucket}"'))
    return EventPattern.load(json.dumps(pattern))


def _deploy_doc_arrival_event() -> dict[str, Any]:
    blocks = re.findall(r"```json\n(.*?)```", DEPLOY_DOC.read_text(encoding="utf-8"), re.S)
    (event,) = [json.loads(b) for b in blocks if '"Object Created"' in b]
    return event


def test_the_arrival_rule_passes_exactly_the_events_the_handler_parses(
    template: dict[str, Any], arrival: dict[str, Any]
) -> None:
    """The S3 event of docs/deploy.md (a real EventBridge "Object Created" event's shape) matches the rule, and
    functions/dsa_report/app/arrival.py `parse` reads it; what the rule lets through is what parse takes."""
    from dsa_report.app import arrival as arrival_app

    (event,) = arrival["Properties"]["Events"].values()
    pattern = event["Properties"]["Pattern"]
    assert pattern == {"source": ["aws.s3"], "detail-type": [arrival_app.CREATED, arrival_app.DELETED],
                       "detail": {"bucket": {"name": [{"Ref": "DataBucket"}]}}}
    sample = _deploy_doc_arrival_event()
    bucket = sample["detail"]["bucket"]["name"]
    rule = _arrival_rule(template, arrival, bucket)
    for kind in (arrival_app.CREATED, arrival_app.DELETED):
        sent = {**sample, "detail-type": kind}
        assert rule.matches_event(sent), kind
        landed = arrival_app.parse(sent)
        assert (landed.kind, landed.bucket, landed.key) == (kind, bucket, sample["detail"]["object"]["key"])
        assert landed.etag and landed.version_id and landed.sequencer
    # another bucket's objects, other S3 events and other sources never reach the function
    assert not rule.matches_event({**sample, "detail": {**sample["detail"], "bucket": {"name": "other"}}})
    assert not rule.matches_event({**sample, "detail-type": "Object Restore Completed"})
    assert not rule.matches_event({**sample, "source": "aws.events"})
    # and what parse refuses, the rule would not have sent
    with pytest.raises(arrival_app.ArrivalError):
        arrival_app.parse({**sample, "detail-type": "Object Restore Completed"})


def test_the_console_test_event_of_the_deploy_doc_is_a_real_s3_event_under_the_docs_source() -> None:
    sample = _deploy_doc_arrival_event()
    assert sample["version"] == "0" and sample["source"] == "aws.s3" and sample["region"] == DUMMY_REGION
    assert re.fullmatch(r"\d{12}", sample["account"]) and _utc(sample["time"])
    bucket = sample["detail"]["bucket"]["name"]
    assert sample["resources"] == [f"arn:aws:s3:::{bucket}"]
    obj = sample["detail"]["object"]
    assert set(obj) == {"key", "size", "etag", "version-id", "sequencer"}
    assert re.fullmatch(r"[0-9A-F]+", obj["sequencer"]) and re.fullmatch(r"[0-9a-f]{32}", obj["etag"])
    # under the `source` docs/deploy.md tells the reader to set, in a dataset folder of the data contract
    from dsa_report.ingest.contract import DATASETS
    prefix = "examplemarket/"
    assert f"source: s3://<DataBucket>/{prefix}" in DEPLOY_DOC.read_text(encoding="utf-8")
    assert obj["key"].startswith(prefix) and obj["key"][len(prefix):].split("/", 1)[0] in DATASETS


def test_alarms_on_the_arrival_functions_metrics(template: dict[str, Any], resources: dict[str, Any]) -> None:
    """The alarms watch metrics functions/handlers/arrival.py emits, with the dimensions Powertools gives them."""
    namespace, service = _handler_metrics("arrival")
    emitted = _emitted_metric_names("arrival")
    assert {"ArrivalFailed", "QuarantinedRowsOnArrival", "UnreadableOnArrival"} <= emitted
    alarms = {name: a["Properties"] for name, a in _of_type(resources, "AWS::CloudWatch::Alarm").items()}

    failed = alarms["ArrivalFailedAlarm"]
    emf_namespace, dimensions = _emf_dimensions(namespace, service, failed["MetricName"])
    assert failed["MetricName"] in emitted
    assert (failed["Namespace"], failed["Dimensions"]) == (emf_namespace, dimensions)
    assert dimensions == [{"Name": "service", "Value": "dsa-report-arrival"}]
    assert (failed["Statistic"], failed["Period"], failed["Threshold"]) == ("Sum", 300, 1)
    assert failed["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert failed["TreatMissingData"] == "notBreaching"

    quality = alarms["ArrivalDataQualityAlarm"]
    stats = {m["Id"]: m["MetricStat"] for m in quality["Metrics"] if "MetricStat" in m}
    watched = {stat["Metric"]["MetricName"] for stat in stats.values()}
    assert watched == {"QuarantinedRowsOnArrival", "UnreadableOnArrival"} and watched <= emitted
    for stat in stats.values():
        emf_namespace, dimensions = _emf_dimensions(namespace, service, stat["Metric"]["MetricName"])
        assert (stat["Metric"]["Namespace"], stat["Metric"]["Dimensions"]) == (emf_namespace, dimensions)
        assert (stat["Stat"], stat["Period"]) == ("Sum", 300)
    # exactly one returned series: the sum of both counts (each filled with 0 where it has no datapoint)
    (returned,) = [m for m in quality["Metrics"] if m.get("ReturnData", True)]
    assert all(m["ReturnData"] is False for m in quality["Metrics"] if "MetricStat" in m)
    assert returned["Expression"] == " + ".join(f"FILL({i}, 0)" for i in stats)
    assert (quality["Threshold"], quality["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert quality["EvaluationPeriods"] == 1 and quality["TreatMissingData"] == "notBreaching"
    # the function's own failures, like the report function's
    assert alarms["ArrivalErrorsAlarm"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "ArrivalFunction"}}]
