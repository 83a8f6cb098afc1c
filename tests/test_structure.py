"""The code's shape: data flows one way, so no module imports (directly or through others) one that
imports it back. Lazy imports inside functions count too: a circle is a circle whenever it closes."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "agents")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    modules = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_no_import_circles():
    cycle = _cycle(_imports())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_checker_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_agents_never_draw_read_files_or_parse_config():
    for path in (ROOT / "agents").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for banned in ("matplotlib", "open(", "read_csv", "load_config", "yaml"):
            assert banned not in text, f"{path.name} uses {banned}"


def test_the_model_names_no_kind_of_unit():
    """Adding a kind of unit is a module in agents/ and an entry in agents.RESPONDERS, not a model edit."""
    from agents import RESPONDERS

    model = (ROOT / "sim" / "model" / "model.py").read_text(encoding="utf-8")
    for kind in RESPONDERS:
        assert kind.__name__ not in model, f"sim/model/model.py names {kind.__name__}"
        assert callable(kind.deploy)
