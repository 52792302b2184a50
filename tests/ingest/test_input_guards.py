"""Input guards (issue 11, part 4): zip bombs built from members under the ratio floor, nested bombs, the
run's unzip budget, member names that normalise alike, a full disk that must fail the run instead of naming a
file, and YAML registers that expand (aliases) or are simply too large."""

from __future__ import annotations

import builtins
import errno
import functools
import io
import os
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import pytest

from dsa_report.ingest import registers as registers_mod
from dsa_report.ingest import s3 as s3_adapter
from dsa_report.ingest import sources
from dsa_report.ingest.registers import MAX_REGISTER_BYTES, load_registers, parse_register
from dsa_report.ingest.sources import collect
from tables import make_data, outcome

NOTICE = b"notice_id\nN1\n"
CHUNK = b"notice_id\n" + b"0" * ((1 << 20) - 20)  # just under the 1 MiB floor, compresses ~1000x


def _zip(members: dict[str, bytes] | list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression) as zf:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted here
        for name, data in (members.items() if isinstance(members, dict) else members):
            zf.writestr(name, data)
    return buf.getvalue()


@functools.cache
def _flat_bomb(members: int = 64) -> bytes:
    """`members` members each under the ratio floor: ~920x in total, no member suspected on its own."""
    return _zip({f"m{i:03d}.csv": CHUNK for i in range(members)})


def _write(root: Path, tree: dict[str, bytes]) -> Path:
    for rel, data in tree.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _written(work: Path) -> int:
    return sum(p.stat().st_size for p in work.rglob("*") if p.is_file())


# ---------------------------------------------------------------- zip bombs under the floor


def test_many_members_under_the_floor_cannot_dodge_the_archive_ratio(tmp_path):
    bomb = _flat_bomb()
    assert len(CHUNK) < sources._RATIO_FLOOR and 64 * len(CHUNK) > 900 * len(bomb)
    _write(tmp_path / "d", {"notices/bomb.zip": bomb, "notices/ok.zip": _zip({"n.csv": NOTICE})})
    work = tmp_path / "w"
    c = collect(str(tmp_path / "d"), work)
    assert [f.origin for f in c.files["notices"]] == ["notices/ok.zip!n.csv"]  # the run goes on
    [refused] = c.unreadable["notices"]
    assert refused.origin == "notices/bomb.zip"  # the archive, once: not 64 member entries
    total = 64 * len(CHUNK)
    assert refused.reason == (f"zip bomb suspected: bomb.zip expands {total // len(bomb)}x its compressed size "
                              f"({total} bytes from {len(bomb)}; limit 500x per archive)")
    assert _written(work) < 100, "nothing of the bomb was written"


def test_archive_size_limit_refuses_an_outer_zip_as_declared(tmp_path):
    data = _zip({"a.csv": b"x" * 600, "b.csv": b"y" * 600})
    _write(tmp_path / "d", {"notices/big.zip": data})
    c = collect(str(tmp_path / "d"), tmp_path / "w", max_unzipped_bytes=1000)
    assert c.files["notices"] == []
    [refused] = c.unreadable["notices"]
    assert refused.origin == "notices/big.zip"
    assert refused.reason == "zip bomb suspected: big.zip expands beyond 1000 bytes (limit per archive; 1200 bytes)"


def test_nested_bomb_is_stopped_at_its_first_member_over_the_outer_ratio(tmp_path):
    outer = _zip({"inner.zip": _flat_bomb()})  # the inner zip compresses again: ~59,000x overall
    _write(tmp_path / "d", {"notices/outer.zip": outer})
    work = tmp_path / "w"
    c = collect(str(tmp_path / "d"), work)
    assert c.files["notices"] == []
    [refused] = c.unreadable["notices"]
    assert refused.origin == "notices/outer.zip!inner.zip!m000.csv"
    assert refused.reason.startswith("zip bomb suspected: outer.zip expands ")
    assert f"x its compressed size ({len(_flat_bomb()) + len(CHUNK)} bytes from {len(outer)}; limit 500x " \
           "per archive); 63 more member(s) left unexpanded" in refused.reason
    assert _written(work) == 0, "the inner zip is removed; none of its members was written"


def test_nested_bombs_share_the_outer_archives_limits(tmp_path):
    inner = _zip({f"m{i}.csv": CHUNK for i in range(8)})
    outer = _zip({f"i{j}.zip": inner for j in range(8)}, zipfile.ZIP_STORED)  # 42.zip style, one level
    # stored: the outer file is as big as its zips, so the first members fit; the total ratio stops them
    _write(tmp_path / "d", {"complaints/42.zip": outer})
    c = collect(str(tmp_path / "d"), tmp_path / "w", max_total_ratio=100)
    files = c.files["complaints"]
    [refused] = c.unreadable["complaints"]
    assert 0 < len(files) < 8 and all(f.origin.startswith("complaints/42.zip!i0.zip!") for f in files)
    assert len(inner) + sum(f.size for f in files) <= 100 * len(outer)  # all written, nested zip included
    assert refused.origin == f"complaints/42.zip!i0.zip!m{len(files)}.csv"
    assert "limit 100x per archive" in refused.reason
    assert refused.reason.endswith(f"; {8 - len(files) - 1 + 7} more member(s) left unexpanded")  # i1..i7 too


def test_one_member_ratio_limit_still_holds_above_the_floor(tmp_path):
    _write(tmp_path / "d", {"notices/one.zip": _zip({"big.csv": b"0" * (3 << 20), "n.csv": NOTICE})})
    c = collect(str(tmp_path / "d"), tmp_path / "w")
    assert [f.origin for f in c.files["notices"]] == ["notices/one.zip!n.csv"]
    [refused] = c.unreadable["notices"]
    assert refused.origin == "notices/one.zip!big.csv" and "member expands" in refused.reason


def test_real_looking_dump_passes_every_limit(tmp_path):
    rows = "".join(f"shop,{i},DECISION_GROUND_ILLEGAL_CONTENT,2025-07-{i % 28 + 1:02d}\n" for i in range(40_000))
    csv = ("platform_name,platform_uid,decision_ground,application_date\n" + rows).encode()
    dump = _zip({f"sor-00000{j}.csv.zip": _zip({f"sor-00000{j}-00000.csv": csv}) for j in range(3)})
    _write(tmp_path / "d", {"statements_of_reasons/sor.zip": dump})
    c = collect(str(tmp_path / "d"), tmp_path / "w")
    assert c.unreadable["statements_of_reasons"] == [] and len(c.files["statements_of_reasons"]) == 3


# ---------------------------------------------------------------- the run's unzip budget


def test_run_budget_is_at_most_the_free_space_and_is_shared_by_all_zips(tmp_path, monkeypatch):
    a = _zip({"a.csv": b"x" * 3000})
    _write(tmp_path / "d", {"notices/a.zip": a, "complaints/b.zip": _zip({"b.csv": b"y" * 3000}),
                            "traders/t.zip": _zip({"t.csv": b"z" * 2000})})
    real = sources.shutil.disk_usage
    monkeypatch.setattr(sources.shutil, "disk_usage", lambda p: real(p)._replace(free=5500))
    c = collect(str(tmp_path / "d"), tmp_path / "w", max_workers=1, max_run_unzipped_bytes=10 << 30)
    assert [f.origin for f in c.files["notices"]] == ["notices/a.zip!a.csv"]  # first come, first served
    assert c.files["complaints"] == []
    [refused] = c.unreadable["complaints"]
    assert refused.origin == "complaints/b.zip"
    assert refused.reason == ("unzip budget of the run exhausted: needs 3000 bytes, 2500 of 5500 left "
                              "(the work folder had 5500 bytes free)")
    assert [f.origin for f in c.files["traders"]] == ["traders/t.zip!t.csv"]  # a smaller one still fits


def test_run_budget_gives_back_what_unzipping_deletes(tmp_path):
    inner = _zip({"c.csv": b"c" * 100}, zipfile.ZIP_STORED)
    _write(tmp_path / "d", {"notices/n.zip": _zip({"i.zip": inner}, zipfile.ZIP_STORED),
                            "complaints/c.zip": _zip({"c.csv": b"d" * len(inner)})})
    # i.zip and its c.csv are on disk together; once expanded i.zip is deleted and its bytes given back
    c = collect(str(tmp_path / "d"), tmp_path / "w", max_workers=1, max_run_unzipped_bytes=len(inner) + 100)
    assert c.unreadable["notices"] == [] and c.unreadable["complaints"] == []
    assert [f.size for f in c.files["notices"] + c.files["complaints"]] == [100, len(inner)]


# ---------------------------------------------------------------- member names


def test_member_names_normalising_alike_are_read_once(tmp_path):
    members = [("./n/x.csv", b"notice_id\nDOT\n"), ("n//x.csv", b"notice_id\nSLASHES\n"),
               ("n/x.csv", b"notice_id\nN1\n"), ("n\\x.csv", b"notice_id\nBACKSLASH\n"),
               ("n/x.csv", b"notice_id\nAGAIN\n"),  # the very same name twice
               ("o/y.csv", b"notice_id\nN2\n"), ("x.zip.d/z.csv", b"notice_id\nN3\n"),
               ("x.zip", _zip({"z.csv": b"notice_id\nCLASH\n"}))]  # expands onto x.zip.d/z.csv
    _write(tmp_path / "d", {"notices/d.zip": _zip(members)})
    c = collect(str(tmp_path / "d"), tmp_path / "w")
    files = {f.origin: f.path.read_bytes() for f in c.files["notices"]}
    assert files == {"notices/d.zip!n/x.csv": b"notice_id\nN1\n", "notices/d.zip!o/y.csv": b"notice_id\nN2\n",
                     "notices/d.zip!x.zip.d/z.csv": b"notice_id\nN3\n"}
    reasons = [(u.origin, u.reason) for u in c.unreadable["notices"]]
    same = "duplicate member: same path as notices/d.zip!{} once names are normalised; read once"
    assert reasons == [("notices/d.zip!./n/x.csv", same.format("n/x.csv")),
                       ("notices/d.zip!n//x.csv", same.format("n/x.csv")),
                       ("notices/d.zip!n/x.csv", same.format("n/x.csv")),
                       ("notices/d.zip!n\\x.csv", same.format("n/x.csv")),
                       ("notices/d.zip!x.zip!z.csv", same.format("x.zip.d/z.csv"))]


def test_member_paths_leaving_the_archive_are_refused(tmp_path):
    names = ["/abs.csv", "../up.csv", "n/../../x.csv", "..\\win.csv", "C:\\x.csv", "c:x.csv", "\\\\srv\\s\\x.csv"]
    _write(tmp_path / "d", {"notices/slip.zip": _zip({**{n: NOTICE for n in names}, "ok.csv": NOTICE})})
    c = collect(str(tmp_path / "d"), tmp_path / "w")
    assert [f.origin for f in c.files["notices"]] == ["notices/slip.zip!ok.csv"]
    assert sorted(u.origin for u in c.unreadable["notices"]) == sorted(f"notices/slip.zip!{n}" for n in names)
    assert all("zip-slip" in u.reason for u in c.unreadable["notices"])
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*.csv")] == [Path("w/notices/slip.zip.d/ok.csv")]


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

    for module in (sources, s3_adapter):  # the source adapters' own writes only
        monkeypatch.setattr(module, "open", failing_open, raising=False)


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


def test_disk_full_while_downloading_fails_the_run(tmp_path, monkeypatch, aws_env):
    import boto3
    from moto import mock_aws

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
    script = ("import sys, time; from pathlib import Path; from dsa_report.ingest.registers import parse_register\n"
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
