"""One import direction (../shared/STYLE.md): app.py -> rag -> (vectorstore, prompts); eval -> rag; no cycles.

The graph is read from the source with ast and counts every import, a lazy one inside a function too:
a lazy import is a dependency all the same, only a later one.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.unit

PACKAGES = ("rag", "vectorstore", "prompts", "eval")


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for app.py and every module of the project's packages."""
    modules = {"app": root / "app.py"}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules that module `name` imports, wherever in the file the import stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from rag import cli` imports the module rag.cli; `from rag.cli import app` imports rag.cli.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = project_modules(root)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None when the graph is acyclic."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for successor in sorted(graph[node]):
            if state.get(successor) == "open":
                return path[path.index(successor):] + [successor]
            if successor not in state and (cycle := visit(successor)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def top(module: str) -> str:
    return module.partition(".")[0]


def test_the_graph_sees_module_level_lazy_and_relative_imports(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "app.py").write_text("def serve():\n    from rag import service\n")
    (tmp_path / "rag" / "service.py").write_text("from .retrieval import search\nimport vectorstore.chroma\n")
    (tmp_path / "rag" / "retrieval.py").write_text("def search():\n    from eval.runner import run_eval\n")
    (tmp_path / "vectorstore" / "chroma.py").write_text("import numpy\n")
    (tmp_path / "eval" / "runner.py").write_text("from rag.service import RagService\n")
    graph = import_graph(tmp_path)
    assert graph["app"] == {"rag.service"}
    assert graph["rag.service"] == {"rag.retrieval", "vectorstore.chroma"}
    assert graph["vectorstore.chroma"] == set()
    assert find_cycle(graph) == ["rag.service", "rag.retrieval", "eval.runner", "rag.service"]


def test_no_import_cycle_among_the_project_modules():
    graph = import_graph()
    assert "rag.retrieval" in graph["rag.cli"] and "rag.service" in graph["app"]  # the graph is not empty
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_the_product_never_imports_eval_or_the_composition_root():
    graph = import_graph()
    back = {f"{name} -> {target}" for name, targets in graph.items() if top(name) in ("rag", "vectorstore", "prompts")
            for target in targets if top(target) in ("eval", "app")}
    assert not back, f"imports against the dependency direction: {sorted(back)}"


def test_storage_and_prompts_import_nothing_of_ours():
    graph = import_graph()
    outward = {f"{name} -> {target}" for name, targets in graph.items() if top(name) in ("vectorstore", "prompts")
               for target in targets if top(target) != top(name)}
    assert not outward, f"vectorstore/ and prompts/ must stand alone: {sorted(outward)}"


def test_importing_the_service_or_the_cli_loads_neither_eval_nor_app():
    # rag.cli too: it finds the eval and serve commands through entry points, loaded only when asked for.
    code = "import sys, rag.service, rag.cli; print('\\n'.join(sys.modules))"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert {"rag.service", "rag.cli"} <= loaded
    assert not {m for m in loaded if m == "app" or top(m) == "eval"}, "importing rag pulled in eval/ or app"


def test_the_cli_offers_the_commands_defined_outside_rag():
    from typer.testing import CliRunner

    from rag.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    for name in ("bench", "serve", "eval"):
        assert f" {name} " in listed.output, f"`newsrag {name}` is missing: is the project installed (make install)?"
    assert runner.invoke(app, ["bench", "--help"]).exit_code == 0
