"""`dsa-report` as a user meets it (contracts/interfaces.md): exit codes, outputs, one-line reasons.

Every command goes through `cli.main([...])` on a small synthetic marketplace; a user error must give exit 2
and exactly one line on stderr naming the key or option, never a traceback.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from dsa_report.ingest.contract import DATASETS, REGISTERS
from dsa_report.obligations.evaluation import load_catalogue
from dsa_report.tools.commands import main
from dsa_report.tools.synthetic import DATASET_FOLDERS, generate

PERIOD = "2025-07"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("market")
    generate(folder, scale=1000, seed=1, period_start=date(2025, 7, 1), period_end=date(2025, 7, 31))
    return folder


def config(tmp_path: Path, data: Path | str, **extra) -> Path:
    doc = {"platform": "ExampleMarket", "tier": "VLOP", "marketplace": True, "source": str(data),
           "sender": "dsa-reports@example.com",
           "audiences": [{"name": "compliance", "recipients": ["compliance@example.com"]},
                         {"name": "board", "recipients": ["board@example.com"]}]}
    doc.update(extra)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def one_line_error(capsys, *needles: str) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# ---------------------------------------------------------------- run


def test_run_writes_findings_csv_report_and_one_eml_per_audience(tmp_path, data, capsys):
    out = tmp_path / "out"
    assert main(["run", "--config", str(config(tmp_path, data)), "--period", PERIOD, "--out", str(out)]) == 0
    printed, err = capsys.readouterr()
    assert err == ""
    document = json.loads((out / "findings.json").read_text())
    assert document["run"]["platform"] == "ExampleMarket" and document["run"]["trigger"] == "cli"
    assert document["run"]["period"]["label"] == PERIOD and len(document["findings"]) == len(load_catalogue())
    rows = list(csv.DictReader(io.StringIO((out / "findings.csv").read_text(encoding="utf-8-sig"))))
    assert sorted(r["obligation_id"] for r in rows) == sorted(f["obligation_id"] for f in document["findings"])
    html = (out / "report.html").read_text()
    assert "ExampleMarket" in html and all(f["obligation_id"] in html for f in document["findings"])
    assert sorted(p.name for p in (out / "emails").glob("*.eml")) == ["board.eml", "compliance.eml"]
    for name in ("findings.json", "findings.csv", "report.html"):
        assert f"wrote {out / name}" in printed
    counts = ", ".join(f"{k} {v}" for k, v in document["summary"]["counts"].items() if v)
    assert f"ExampleMarket {PERIOD}: {counts}" in printed
    assert document["summary"]["counts"]["FAIL"] > 0  # the planted breaches: exit 0 all the same


def test_fail_on_gives_exit_3_when_such_a_finding_exists(tmp_path, data, capsys):
    cfg = str(config(tmp_path, data))
    assert main(["run", "--config", cfg, "--period", PERIOD, "--out", str(tmp_path / "a"), "--fail-on", "FAIL"]) == 3
    statuses = {f["status"] for f in json.loads((tmp_path / "a" / "findings.json").read_text())["findings"]}
    assert "FAIL" in statuses
    assert "ExampleMarket 2025-07: FAIL" in capsys.readouterr().out  # the report was still produced


def test_fail_on_passes_when_every_warn_and_fail_is_waived(tmp_path, data, capsys):
    waiver = {"obligation": "DSA-*", "justification": "remediation programme", "approved_by": "Board",
              "expires": "2099-12-31"}
    cfg = str(config(tmp_path, data, waivers=[waiver]))
    assert main(["run", "--config", cfg, "--period", PERIOD, "--out", str(tmp_path / "w"), "--fail-on", "WARN"]) == 0
    document = json.loads((tmp_path / "w" / "findings.json").read_text())
    assert document["summary"]["counts"]["FAIL"] == document["summary"]["counts"]["WARN"] == 0
    assert document["summary"]["counts"]["WAIVED"] > 0
    capsys.readouterr()


@pytest.mark.parametrize(("extra", "key"), [
    ({"colour": "blue"}, "colour: unknown key"),
    ({"parameters": {"DSA-99-NO-SUCH-DUTY": {"min_share": 0.5}}}, "parameters.DSA-99-NO-SUCH-DUTY"),
    ({"parameters": {"DSA-17-SOR-COVERAGE": {"min_shares": 0.5}}}, "parameters.DSA-17-SOR-COVERAGE.min_shares"),
    ({"sender": "dsa-reports at example.com"}, "sender"),
    ({"audiences": [{"name": "board", "recipients": ["board@"]}]}, "audiences[0].recipients[0]"),
    ({"waivers": [{"obligation": "DSA-30-KYBC-VERIFICATION", "justification": "x", "approved_by": "y"}]},
     "waivers[0].expires"),
    ({"waivers": [{"obligation": "DSA-99-NOPE", "justification": "x", "approved_by": "y",
                   "expires": "2030-01-01"}]}, "waivers[0].obligation"),
    ({"tier": "GIANT"}, "tier"),
    ({"report_link_days": 30}, "report_link_days"),  # an S3 presigned link lasts at most seven days
    ({"report_link_days": "7"}, "report_link_days"),
    ({"audiences": [{"name": "boardroom", "recipients": ["b@example.com"]}]}, "audiences[0].name"),
])
def test_config_errors_name_the_key_before_any_data_is_read(tmp_path, capsys, extra, key):
    cfg = config(tmp_path, tmp_path / "no-such-data", **extra)  # reading data first would fail differently
    assert main(["run", "--config", str(cfg), "--period", PERIOD, "--out", str(tmp_path / "out")]) == 2
    one_line_error(capsys, key, str(cfg))
    assert not (tmp_path / "out").exists()


def test_a_date_that_does_not_exist_in_the_config_is_a_config_error(tmp_path, capsys):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("platform: ExampleMarket\ntier: VLOP\nwaivers:\n  - {obligation: DSA-30-KYBC-VERIFICATION, "
                   "justification: x, approved_by: y, expires: 2026-13-01}\n")
    assert main(["run", "--config", str(cfg), "--period", PERIOD, "--source", str(tmp_path)]) == 2
    one_line_error(capsys, str(cfg))


@pytest.mark.parametrize("period", ["2025-13", "2025-H3", "2025-07-31..2025-07-01", "last month"])
def test_bad_period(tmp_path, data, capsys, period):
    assert main(["run", "--config", str(config(tmp_path, data)), "--period", period]) == 2
    one_line_error(capsys, "--period", period)


def test_missing_config_file(tmp_path, capsys):
    missing = tmp_path / "nowhere.yaml"
    assert main(["run", "--config", str(missing), "--period", PERIOD]) == 2
    one_line_error(capsys, "--config", str(missing))


def test_source_folder_that_does_not_exist(tmp_path, data, capsys):
    cfg = str(config(tmp_path, data))
    gone = tmp_path / "gone"
    assert main(["run", "--config", cfg, "--period", PERIOD, "--source", str(gone), "--out", str(tmp_path / "o")]) == 2
    one_line_error(capsys, "--source", str(gone))
    cfg = str(config(tmp_path, gone))  # the same folder named by the config's `source` key
    assert main(["run", "--config", cfg, "--period", PERIOD, "--out", str(tmp_path / "o")]) == 2
    assert one_line_error(capsys, str(gone)).startswith("dsa-report: source:")
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_is_refused_before_the_run(tmp_path, data, capsys):
    blocker = tmp_path / "report.txt"
    blocker.write_text("not a folder")
    cfg = str(config(tmp_path, data))
    assert main(["run", "--config", cfg, "--period", PERIOD, "--out", str(blocker / "out")]) == 2
    one_line_error(capsys, "--out", str(blocker))


def test_send_without_audiences_is_a_usage_error(tmp_path, data, capsys):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"platform: ExampleMarket\ntier: VLOP\nsource: {data}\n")
    assert main(["run", "--config", str(cfg), "--period", PERIOD, "--send"]) == 2
    one_line_error(capsys, "audiences", "--send")


def test_argument_errors_are_one_line_with_exit_2(tmp_path, capsys):
    for argv in (["run", "--config", "c.yaml"], ["run", "--config", "c.yaml", "--period", PERIOD, "--fail-on", "BAD"],
                 ["obligations", "--tier", "GIANT"], []):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
        one_line_error(capsys, "dsa-report")


# ---------------------------------------------------------------- validate-data


def test_validate_data_prints_rows_and_quarantine_per_dataset(data, capsys):
    assert main(["validate-data", "--source", str(data)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["DATASET", "FILES", "ROWS", "QUARANTINED"]
    shown = {line.split()[0]: line.split()[1:4] for line in lines[1:] if not line.startswith(" ")}
    assert set(shown) == set(DATASETS) | {"registers"}
    assert main(["validate-data", "--source", str(data), "--json"]) == 0
    quality = json.loads(capsys.readouterr().out)
    assert set(quality) == set(DATASETS) | {"registers"}
    for name, q in quality.items():
        assert shown[name] == [str(q["files"]), f"{q['rows']:,}", f"{q['quarantined_rows']:,}"]
        assert q["unreadable_files"] == []
    assert quality["statements_of_reasons"]["rows"] > 1000 and quality["statements_of_reasons"]["duplicates_removed"]


def test_validate_data_exits_1_and_names_an_unreadable_file(tmp_path, data, capsys):
    dirty = tmp_path / "dirty"
    shutil.copytree(data / "complaints", dirty / "complaints")  # the generated complaints, plus two bad files
    body = "complaint_id,received_at,outcome\nX1,2025-07-02,DECISION_UPHELD\nX2,2025-07-02,DECISION_MAYBE\n"
    (dirty / "complaints" / "late.csv").write_text(body)
    (dirty / "complaints" / "broken.csv.gz").write_bytes(gzip.compress(body.encode())[:25])
    assert main(["validate-data", "--source", str(dirty)]) == 1
    out, _ = capsys.readouterr()
    assert "unreadable: complaints/broken.csv.gz" in out
    assert "unknown value outcome: 1" in out and "e.g. complaints/late.csv row 2: unknown value outcome" in out
    assert main(["validate-data", "--source", str(dirty), "--json"]) == 1
    quality = json.loads(capsys.readouterr().out)["complaints"]
    assert [u["file"] for u in quality["unreadable_files"]] == ["complaints/broken.csv.gz"]
    assert quality["reasons"] == {"unknown value outcome": 1}
    assert quality["examples"] == [{"file": "complaints/late.csv", "row": 2, "reason": "unknown value outcome",
                                    "value": "DECISION_MAYBE"}]


def test_validate_data_on_a_missing_folder(tmp_path, capsys):
    assert main(["validate-data", "--source", str(tmp_path / "nothing")]) == 2
    one_line_error(capsys, "--source", str(tmp_path / "nothing"))


# ---------------------------------------------------------------- obligations


def listed(text: str) -> list[str]:
    return [line.split()[0] for line in text.splitlines() if line.startswith("DSA-")]


def test_obligations_lists_the_catalogue(capsys):
    assert main(["obligations"]) == 0
    out = capsys.readouterr().out
    catalogue = load_catalogue()
    assert listed(out) == [ob.id for ob in catalogue.obligations] and len(set(listed(out))) == len(catalogue)
    line = next(row for row in out.splitlines() if row.startswith("DSA-23.1-REPEAT-INFRINGER-SUSPENSION"))
    ob = next(o for o in catalogue.obligations if o.id == "DSA-23.1-REPEAT-INFRINGER-SUSPENSION")
    assert f"art. {ob.article}" in line and ob.severity in line and ob.applies_label in line
    assert ob.parameters and all(f"{k}={v}" in line for k, v in ob.parameters.items())
    lines = out.splitlines()
    assert lines[lines.index(line) + 1].strip() == ob.title  # each obligation with its title


def test_fail_on_help_says_at_or_above(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    assert "at or above this status" in " ".join(capsys.readouterr().out.split())


def test_obligations_for_a_tier_hide_what_does_not_apply(capsys):
    assert main(["obligations", "--tier", "PLATFORM"]) == 0
    shown = set(listed(capsys.readouterr().out))
    catalogue = load_catalogue()
    hidden = {ob.id for ob in catalogue.obligations if ob.applies_label.startswith(("MARKETPLACE+", "VLOP"))}
    assert hidden and not shown & hidden
    assert shown == {ob.id for ob in catalogue.obligations} - hidden
    assert main(["obligations", "--tier", "VLOP"]) == 0
    assert len(listed(capsys.readouterr().out)) == len(load_catalogue())


# ---------------------------------------------------------------- generate-data and demo


def test_generate_data_writes_the_layout_deterministically(tmp_path, data, capsys):
    """The same seed, scale and period as the `data` fixture (the library call): the same files."""
    out = tmp_path / "gen"
    assert main(["generate-data", "--out", str(out), "--scale", "1000", "--seed", "1", "--period", PERIOD]) == 0
    assert "statements of reasons for ExampleMarket 2025-07-01..2025-07-31" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(DATASET_FOLDERS)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(data) for p in data.rglob("*") if p.is_file())
    assert all((out / f).read_bytes() == (data / f).read_bytes() for f in files)
    assert {f.parts[1] for f in files if f.parts[0] == "registers"} == {f"{name}.yaml" for name in REGISTERS}
    assert {f.parts[0] for f in files if f.suffix in (".csv", ".gz", ".parquet")} == set(DATASETS)


@pytest.mark.parametrize(("argv", "needle"), [
    (["--scale", "10"], "--scale"),
    (["--seed", "-1"], "--seed"),
    (["--period", "2025-07-01..2025-07-10"], "--period"),
    (["--period", "July"], "--period"),
])
def test_generate_data_user_errors_are_exit_2(tmp_path, capsys, argv, needle):
    assert main(["generate-data", "--out", str(tmp_path / "g"), *argv]) == 2
    one_line_error(capsys, needle)
    assert not (tmp_path / "g").exists()


def test_demo_refuses_a_folder_it_did_not_write(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    assert main(["demo", "--out", str(mine)]) == 2
    one_line_error(capsys, "--out", str(mine))
    assert (mine / "thesis.tex").read_text() == "years of work"
    assert main(["demo", "--out", str(tmp_path / "new"), "--scale", "5"]) == 2
    one_line_error(capsys, "--scale")


def test_trust_and_safety_alone_gets_every_offending_item_as_a_csv(tmp_path, data, capsys):
    from email import message_from_bytes
    from email.policy import default

    audiences = [{"name": a, "recipients": [f"{a.replace('_', '-')}@example.com"]}
                 for a in ("board", "compliance", "trust_and_safety")]
    out = tmp_path / "out"
    assert main(["run", "--config", str(config(tmp_path, data, audiences=audiences)), "--period", PERIOD,
                 "--out", str(out)]) == 0
    capsys.readouterr()
    attached = {}
    for eml in (out / "emails").glob("*.eml"):
        message = message_from_bytes(eml.read_bytes(), policy=default)
        attached[eml.stem] = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert "offending_items.csv" in attached["trust_and_safety"]
    assert "offending_items.csv" not in attached["board"] and "offending_items.csv" not in attached["compliance"]
    rows = list(csv.DictReader(io.StringIO(attached["trust_and_safety"]["offending_items.csv"])))
    document = json.loads((out / "findings.json").read_text())
    for finding in document["findings"]:
        listed = [r for r in rows if r["obligation_id"] == finding["obligation_id"]]
        archived = out / "evidence" / f"{finding['obligation_id']}.jsonl"
        expected = len(archived.read_text().splitlines()) if archived.exists() else len(finding["evidence"]["sample"])
        assert len(listed) == expected, finding["obligation_id"]  # every offending item, not the 20 of the sample
    assert (out / "offending_items.csv").read_bytes().decode().splitlines() == (
        attached["trust_and_safety"]["offending_items.csv"].splitlines())


def test_the_emails_link_to_the_archived_report_for_report_link_days():
    from datetime import UTC, datetime

    from dsa_report.app import pipeline
    from dsa_report.engine.periods import parse_period
    from dsa_report.obligations.config import parse_config

    calls = []

    class S3:
        def generate_presigned_url(self, operation, Params, ExpiresIn):  # noqa: N803 (boto3's names)
            calls.append((operation, Params, ExpiresIn))
            return "https://reports.example/ExampleMarket/2025-07/run-1/report.html?X-Amz-Signature=x"

    cfg = parse_config({"platform": "ExampleMarket", "tier": "VLOP", "report_link_days": 3})
    request = pipeline.RunRequest(config=cfg, period=parse_period(PERIOD), source="x", reports_bucket="archive",
                                  now=datetime(2025, 8, 2, tzinfo=UTC))
    link = pipeline._report_link(request, pipeline.Clients(lambda service: S3()), "run-1")
    assert link == ("https://reports.example/ExampleMarket/2025-07/run-1/report.html?X-Amz-Signature=x", 3)
    assert calls == [("get_object", {"Bucket": "archive", "Key": "ExampleMarket/2025-07/run-1/report.html"},
                      3 * 86400)]
    assert parse_config({"platform": "P", "tier": "VLOP"}).report_link_days == 7  # the default
    request.reports_bucket = None
    assert pipeline._report_link(request, pipeline.Clients(lambda service: S3()), "run-1") is None


def test_generated_data_is_never_dated_after_now(tmp_path):
    """The demo runs a day after the month it reports: no statement submitted, no notice acknowledged later."""
    from datetime import datetime

    import duckdb

    now = datetime(2025, 8, 1, 6, 0)
    generate(tmp_path / "g", scale=1000, seed=2, period_start=date(2025, 7, 1), period_end=date(2025, 7, 31), now=now)
    con = duckdb.connect()
    sors, notices = str(tmp_path / "g" / "statements_of_reasons" / "**" / "*.csv.gz"), str(tmp_path / "g" / "notices")
    sor = con.execute("SELECT max(created_at::TIMESTAMP), count(*) FILTER (WHERE created_at IS NULL) FROM "
                      "read_csv($files, all_varchar=true)", {"files": sors}).fetchone()
    assert sor[0] <= now and sor[1] > 0  # the ones not submitted yet have no created_at
    acks = con.execute("SELECT max(acknowledged_at::TIMESTAMPTZ) FROM read_json($files, format='newline_delimited',"
                       " columns={'acknowledged_at': 'VARCHAR'})", {"files": notices + "/**/*.jsonl.gz"}).fetchone()[0]
    assert acks.replace(tzinfo=None) <= now


# ---------------------------------------------------------------- transparency-report


def test_transparency_report_writes_the_workbook_and_csv_parts_numbering_versions(tmp_path, data, capsys):
    out = tmp_path / "eu"
    argv = ["transparency-report", "--config", str(config(tmp_path, data)), "--period", PERIOD, "--out", str(out)]
    assert main(argv) == 0
    printed, err = capsys.readouterr()
    assert err == ""
    v1 = out / f"transparency-report-ExampleMarket-{PERIOD}-v1.xlsx"
    assert v1.is_file() and len(list(out.glob(f"transparency-report-ExampleMarket-{PERIOD}-v1-*.csv"))) == 11
    assert f"wrote {v1}" in printed and "4_notices" in printed and "figures from the data" in printed
    assert "notice_count" in printed and "DIFFERENT" not in printed  # reconciled with the metrics
    assert main(argv) == 0
    assert (out / f"transparency-report-ExampleMarket-{PERIOD}-v2.xlsx").is_file() and v1.is_file()


def test_transparency_report_published_figures_that_differ_exit_3_with_a_table(tmp_path, data, capsys):
    out = tmp_path / "eu"
    argv = ["transparency-report", "--config", str(config(tmp_path, data)), "--period", PERIOD, "--out", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    part = out / f"transparency-report-ExampleMarket-{PERIOD}-v1-4_notices.csv"
    rows = list(csv.reader(io.StringIO(part.read_text(encoding="utf-8"))))
    column = rows[0].index("Number of notices received")
    filed = int(rows[1][column])
    rows[1][column] = str(filed + 5)  # the TOTAL row as filed
    published = tmp_path / "4_notices.csv"
    with published.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    assert main([*argv, "--published", str(published)]) == 3
    printed, _ = capsys.readouterr()
    line = next(x for x in printed.splitlines() if "Number of notices received" in x and "differs" in x)
    assert f"{filed + 5:,}" in line and f"{filed:,}" in line and "TOTAL" in line
    assert "1 figures differ" in printed
    assert main([*argv, "--published", str(out / f"transparency-report-ExampleMarket-{PERIOD}-v1.xlsx")]) == 0


def test_transparency_report_user_errors_are_one_line_exit_2(tmp_path, data, capsys):
    cfg = config(tmp_path, data, transparency_qualitative="answers.yaml")  # beside the config: absent
    base = ["transparency-report", "--period", PERIOD, "--out", str(tmp_path / "eu")]
    assert main([*base, "--config", str(cfg)]) == 2
    one_line_error(capsys, "transparency_qualitative", "answers.yaml")
    (tmp_path / "answers.yaml").write_text("Summary of everything: x\n")
    assert main([*base, "--config", str(cfg)]) == 2
    one_line_error(capsys, "transparency_qualitative", "Summary of everything")
    plain = config(tmp_path, data)
    assert main([*base, "--config", str(plain), "--published", str(tmp_path / "none.xlsx")]) == 2
    one_line_error(capsys, "--published")
    assert main([*base, "--config", str(plain), "--tolerance", "-1"]) == 2
    one_line_error(capsys, "--tolerance")
    assert not (tmp_path / "eu").exists()
