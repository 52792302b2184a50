"""The dependency rule of docs/architecture.md, read from the code with `ast`: imports point downward only
(vocabulary -> ingest -> engine -> obligations -> outputs -> delivery -> app -> tools / handlers), boto3 is
imported only by the S3 source adapter, delivery/ and app/ (and the development tools), no module reaches
the engine's connection but the engine, and there is no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FUNCTIONS = Path(__file__).resolve().parents[1] / "functions"
PACKAGE = FUNCTIONS / "dsa_report"
LAYERS = ("vocabulary", "ingest", "engine", "obligations", "outputs", "delivery", "app", "tools", "handlers")
AWS_SDK = ("boto3", "botocore", "s3transfer")
AWS_ALLOWED = ("dsa_report.ingest.s3", "dsa_report.delivery", "dsa_report.app", "dsa_report.tools")
CONNECTION_HOLDERS = ("dsa_report.ingest", "dsa_report.engine", "dsa_report.tools")  # `.con` / duckdb


def module_name(path: Path) -> str:
    parts = path.relative_to(FUNCTIONS).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    files = [*PACKAGE.rglob("*.py"), *(FUNCTIONS / "handlers").rglob("*.py")]
    return {module_name(p): p for p in files}


def imports(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]  # `from . import x`
    return found


def layer(name: str) -> int | None:
    parts = name.split(".")
    if parts[0] == "handlers":
        return LAYERS.index("handlers")
    if parts[0] != "dsa_report" or len(parts) < 2:
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


ALL = modules()


def test_every_module_sits_in_a_layer():
    assert [n for n in ALL if n != "dsa_report" and layer(n) is None] == []


@pytest.mark.parametrize("name", sorted(ALL))
def test_imports_point_downward(name):
    own = layer(name)
    upward = [f"{ALL[name].relative_to(FUNCTIONS)}:{line} imports {target} ({LAYERS[layer(target)]})"
              for line, target in imports(name, ALL[name])
              if layer(target) is not None and own is not None and layer(target) > own
              and not (LAYERS[own] in ("tools", "handlers") and LAYERS[layer(target)] in ("tools", "handlers"))]
    assert upward == []


@pytest.mark.parametrize("name", sorted(ALL))
def test_only_the_aws_adapters_import_the_aws_sdk(name):
    if name.startswith(AWS_ALLOWED):
        return
    offending = [f"{ALL[name].relative_to(FUNCTIONS)}:{line} imports {target}"
                 for line, target in imports(name, ALL[name]) if target.split(".")[0] in AWS_SDK]
    assert offending == []


@pytest.mark.parametrize("name", sorted(n for n in ALL if not n.startswith(CONNECTION_HOLDERS)))
def test_rules_and_above_reach_data_only_through_the_query_handle(name):
    tree = ast.parse(ALL[name].read_text(encoding="utf-8"))
    touches = [f"{ALL[name].relative_to(FUNCTIONS)}:{node.lineno}" for node in ast.walk(tree)
               if isinstance(node, ast.Attribute) and node.attr == "con"]
    touches += [f"{ALL[name].relative_to(FUNCTIONS)}:{line} imports duckdb"
                for line, target in imports(name, ALL[name]) if target.split(".")[0] == "duckdb"
                and not name.startswith("dsa_report.app")]
    assert touches == []


def test_no_import_cycles():
    graph = {name: {t for _, t in imports(name, path) if t in ALL and t != name} for name, path in ALL.items()}
    # a package imports its own submodules to register them: that is not a cycle of the design
    graph = {n: {t for t in ts if not t.startswith(n + ".")} for n, ts in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_the_checker_sees_an_upward_import(tmp_path):
    """The rule is not vacuous: an engine module importing obligations is seen, resolved, and ranked above."""
    source = tmp_path / "bad.py"
    source.write_text("from ..obligations import facts\n")
    found = imports("dsa_report.engine.bad", source)
    assert (1, "dsa_report.obligations.facts") in found
    assert layer("dsa_report.obligations.facts") > layer("dsa_report.engine.bad")


def test_the_lambda_bundle_runs_without_the_development_tools(tmp_path):
    """`infra/sam.mk` bundles the handler, the core package without tools/, and the templates; the handler
    imports and a report renders from the bundle alone (site-packages for the pinned dependencies only)."""
    import json
    import subprocess
    import sys
    import sysconfig

    root = FUNCTIONS.parent
    bundle = tmp_path / "bundle"
    subprocess.run(["make", "-s", "-C", str(root), "bundle-code", f"ARTIFACTS_DIR={bundle}"], check=True)
    assert not (bundle / "dsa_report" / "tools").exists() and (bundle / "dsa_report" / "templates").is_dir()
    probe = f"""
import sys, json, importlib.util
sys.path[:0] = [{str(bundle)!r}, {sysconfig.get_paths()["purelib"]!r}]
import handlers.scheduled
from dsa_report.outputs import report
assert report.templates_dir() == __import__("pathlib").Path({str(bundle / "dsa_report" / "templates")!r})
doc = json.load(open({str(root / "tests" / "fixtures" / "findings_sample.json")!r}))
html = report.render_report_html(doc)
print(json.dumps({{"tools": importlib.util.find_spec("dsa_report.tools") is not None, "html": len(html),
                  "from": handlers.scheduled.__file__}}))
"""
    result = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True, check=True)
    seen = json.loads(result.stdout)
    assert seen["tools"] is False and seen["html"] > 1000 and seen["from"].startswith(str(bundle))
