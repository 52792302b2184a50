"""Input guards (issue 11, part 4): a full disk that must fail the run instead of naming a file, and YAML
registers that expand (aliases), are too large or too deep."""

from __future__ import annotations

import builtins
import errno
import io
import os
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import pytest

from dsa_report import registers as registers_mod
from dsa_report import sources
from dsa_report.registers import MAX_REGISTER_BYTES, load_registers, parse_register
from dsa_report.sources import collect
from tables import make_data, outcome

NOTICE = b"notice_id\nN1\n"


def _zip(members: dict[str, bytes] | list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression) as zf:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted here
        for name, data in (members.items() if isinstance(members, dict) else members):
            zf.writestr(name, data)
    return buf.getvalue()


def _write(root: Path, tree: dict[str, bytes]) -> Path:
    for rel, data in tree.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


# ---------------------------------------------------------------- a full disk is not bad input


class _FailingWriter:
    """An open file whose writes fail as a full or broken disk would (the file itself is created)."""

    def __init__(self, real, error: BaseException) -> None:
        self.real, self.error = real, error

    def write(self, data):
        raise self.error

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()

    def close(self):
        self.real.close()


def _fail_writes(monkeypatch, error: BaseException) -> None:
    def failing_open(file, mode="r", *args, **kwargs):
        real = builtins.open(file, mode, *args, **kwargs)
        return _FailingWriter(real, error) if "w" in mode else real

    monkeypatch.setattr(sources, "open", failing_open, raising=False)  # sources' own writes only


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EIO])
def test_disk_errors_while_unzipping_fail_the_run(tmp_path, monkeypatch, code):
    _write(tmp_path / "d", {"notices/n.zip": _zip({"n.csv": NOTICE}), "notices/plain.csv": NOTICE})
    _fail_writes(monkeypatch, OSError(code, os.strerror(code)))
    with pytest.raises(OSError) as raised:
        collect(str(tmp_path / "d"), tmp_path / "w")
    assert raised.value.errno == code
    assert not list((tmp_path / "w").rglob("n.csv")), "the partial member is removed"


def test_memory_error_while_unzipping_fails_the_run(tmp_path, monkeypatch):
    _write(tmp_path / "d", {"notices/n.zip": _zip({"n.csv": NOTICE})})
    _fail_writes(monkeypatch, MemoryError())
    with pytest.raises(MemoryError):
        collect(str(tmp_path / "d"), tmp_path / "w")


def test_other_write_errors_still_name_the_member(tmp_path):
    long = "x" * 300 + ".csv"  # ENAMETOOLONG: the member's fault, not the disk's
    _write(tmp_path / "d", {"notices/n.zip": _zip({long: NOTICE, "ok.csv": NOTICE})})
    c = collect(str(tmp_path / "d"), tmp_path / "w")
    assert [f.origin for f in c.files["notices"]] == ["notices/n.zip!ok.csv"]
    [bad] = c.unreadable["notices"]
    assert bad.origin == f"notices/n.zip!{long}" and bad.reason.startswith("unreadable zip member: [Errno 36]")


def test_disk_full_while_downloading_fails_the_run(tmp_path, monkeypatch):
    import boto3
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="guards-test", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        for key in ("notices/n.csv", "registers/audits.yaml"):
            s3.put_object(Bucket="guards-test", Key=f"p/{key}", Body=b"audits: []\n")
        _fail_writes(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
        with pytest.raises(OSError) as raised:  # today: "cannot fetch: ..." and the run goes on
            collect("s3://guards-test/p/", tmp_path / "w", s3_client=s3)
    assert raised.value.errno == errno.ENOSPC
    assert not list((tmp_path / "w").rglob("*.part"))


# ---------------------------------------------------------------- YAML registers

BILLION_LAUGHS = textwrap.dedent("""\
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    assessments: [*i,*i,*i,*i,*i,*i,*i,*i,*i]
    """)


def test_yaml_alias_bomb_is_refused_at_once(tmp_path):
    path = tmp_path / "risk_assessments.yaml"
    path.write_text(BILLION_LAUGHS)
    script = ("import sys, time; from pathlib import Path; from dsa_report.registers import parse_register\n"
              "t = time.perf_counter()\n"
              "try:\n    parse_register('risk_assessments', Path(sys.argv[1]))\n"
              "except ValueError as exc:\n    print(exc)\n"
              "print(f'{time.perf_counter() - t:.3f}')\n")
    env = {**os.environ, "PYTHONPATH": str(Path(registers_mod.__file__).parents[1])}
    # in a child process: today's code expands 9**10 strings and would never return
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=20,
                          env=env, check=True)
    reason, seconds = done.stdout.splitlines()
    assert reason == "YAML anchors and aliases (&name, *name) are not accepted: line 1"
    assert float(seconds) < 0.25


@pytest.mark.parametrize("text, line", [
    ("launches:\n  - &l {feature: A, launched_at: 2025-09-01}\n", 2),  # an anchor alone is refused too
    ("base: &b {critical_impact: true}\nlaunches:\n  - {<<: *b, feature: A}\n", 1),
])
def test_any_anchor_or_alias_is_refused(tmp_path, text, line):
    path = tmp_path / "launches.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"anchors and aliases .* not accepted: line {line}$"):
        parse_register("launches", path)


def test_oversize_and_too_deep_registers_are_refused(tmp_path):
    big = tmp_path / "audits.yaml"
    big.write_text("audits:\n" + "  - {id: A}\n" * (MAX_REGISTER_BYTES // 11 + 1))
    with pytest.raises(ValueError, match=rf"register file too large: {big.stat().st_size} bytes "
                                         rf"\(limit {MAX_REGISTER_BYTES}\)"):
        parse_register("audits", big)
    deep = tmp_path / "launches.json"
    deep.write_text('{"launches": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_register("launches", deep)
    deep_yaml = tmp_path / "launches.yaml"
    deep_yaml.write_text("launches: " + "[" * 5_000 + "]" * 5_000 + "\n")
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_register("launches", deep_yaml)


def test_refused_registers_are_named_and_then_missing(tmp_path):
    _write(tmp_path / "d", {
        "registers/risk_assessments.yaml": BILLION_LAUGHS.encode(),
        "registers/audits.yaml": b"audits:\n" + b"  - {id: A}\n" * (MAX_REGISTER_BYTES // 11 + 1),
        "registers/launches.yaml": b"launches: []\n",
    })
    c = collect(str(tmp_path / "d"), tmp_path / "w")
    size = (tmp_path / "d/registers/audits.yaml").stat().st_size
    assert [(u.origin, u.reason) for u in c.register_errors] == [
        ("registers/audits.yaml", f"register file too large: {size} bytes (limit {MAX_REGISTER_BYTES})")]
    found, quality = load_registers(c.registers, c.register_errors)  # the run goes on
    assert sorted(found) == ["launches"]
    assert quality["unreadable_files"] == [
        {"file": "registers/audits.yaml", "reason": f"register file too large: {size} bytes "
                                                    f"(limit {MAX_REGISTER_BYTES})"},
        {"file": "registers/risk_assessments.yaml",
         "reason": "YAML anchors and aliases (&name, *name) are not accepted: line 1"}]
    result = outcome("DSA-34-RA-FRESHNESS", make_data({}, registers=found))
    assert result.status == "INSUFFICIENT_DATA" and result.missing == ["register risk_assessments"]
