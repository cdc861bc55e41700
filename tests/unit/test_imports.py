"""The import graph of regdemo/, webapp/, app_pages/ and tools/: no cycle (imports inside
functions counted), and neither the library nor the app imports the dev tools or the app.

Built from the source with `ast`, not by importing: every `import` and `from ... import` anywhere
in a file (top level, function, class, try block) is an edge. One test lists every cycle at once.
"""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("regdemo", "webapp", "app_pages", "tools")  # the pages and tools too: a cycle through them counts
# Only charts may import these; the rest of the library runs without a browser or a UI toolkit.
UI_ONLY = ("streamlit", "playwright", "altair")
UI_HOMES = ("regdemo.viz", "regdemo.charts", "regdemo.visuals")


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, pathlib.Path]:
    return {_module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _imported(name: str, path: pathlib.Path, known: set[str]) -> list[tuple[str, int]]:
    """(module, line) for every import in the file: `from a import b` counts a.b when a.b is a
    module of ours (a submodule), else a."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            subs = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
            found += [(m, node.lineno) for m in subs] or [(base, node.lineno)]
    return found


def _graph() -> dict[str, dict[str, int]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges = graph.setdefault(name, {})
        for target, line in _imported(name, path, known):
            # `import regdemo.a.b` also runs regdemo/__init__ and regdemo/a/__init__; those are
            # edges only for a module that is not itself inside them (a package's own parents
            # are always imported first, and package __init__ files here import nothing of ours).
            if target in known and target != name:
                edges.setdefault(target, line)
    return graph


def _components(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan): the modules that
    import each other, directly or around a loop."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle through each component, so a failure names the imports to cut."""
    return [_one_cycle(graph, set(c)) for c in _components(graph)]



def _one_cycle(graph, component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth first, inside it)."""
    start = min(component)
    previous = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w == start:
                path = [v]
                while previous[path[-1]] is not None:
                    path.append(previous[path[-1]])
                return path[::-1] + [start]
            if w in component and w not in previous:
                previous[w] = v
                queue.append(w)
    return sorted(component)


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}, "e": {"f": 1}, "f": {"e": 1}}
    assert _cycles(graph) == [["a", "b", "c", "a"], ["e", "f", "e"]]
    assert _cycles({"a": {"b": 1}, "b": {}}) == []


def test_no_import_cycle():
    graph = _graph()
    assert {"regdemo.runs.registry", "regdemo.storage.sqlite", "webapp.state", "tools.loadtest"} <= set(graph)
    problems = []
    for component in _components(graph):
        cycle = _one_cycle(graph, set(component))
        steps = [f"{a} -> {b} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False)]
        problems.append(f"{', '.join(component)}: e.g. " + " ; ".join(steps))
    assert not problems, "import cycles (imports inside functions counted):\n" + "\n".join(problems)


def test_the_library_imports_no_ui_or_browser_package():
    modules = _modules()
    known = set(modules)
    problems = []
    for name, path in modules.items():
        if not name.startswith("regdemo") or name.startswith(UI_HOMES):
            continue
        for target, line in _imported(name, path, known):
            if target.split(".")[0] in UI_ONLY:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not problems, "\n".join(problems)


def test_only_tools_and_tests_import_the_tools():
    """tools/ is run from a checkout (`python -m tools.x`); the library and the app work without it,
    and the library works without the app."""
    graph = _graph()
    problems = [f"{name} (line {line}) imports {target}" for name, edges in graph.items()
                if not name.startswith("tools.") for target, line in edges.items()
                if target.startswith("tools.") or target == "tools"
                or (name.startswith("regdemo") and target.split(".")[0] in ("webapp", "app_pages"))]
    assert not problems, "\n".join(problems)


# The library's layers, lowest first: a module may import its own layer and those below it.
LAYERS = ("i18n", "messages", "settings", "training", "storage", "runs", "teaching", "viz", "cli")
# Upward edges allowed, each for a stated reason.
UPWARD = {
    # A run's records (RunView, Run, the statuses) are what the stores save and return.
    ("storage", "regdemo.runs.records"),
    # lessons --check runs `python -m regdemo train --json` and reads its lines with the CLI's own schema.
    ("teaching", "regdemo.cli.output"),
}
MAX_TOP_LEVEL_MODULES = 8  # besides the packages; the issue that made the packages asked for it


def _layer(module: str) -> str:
    return module.split(".")[1].removesuffix(".py")


def test_the_library_imports_only_downwards_through_its_layers():
    graph = _graph()
    problems = []
    for name, edges in graph.items():
        if not name.startswith("regdemo.") or name == "regdemo.__main__":
            continue
        here = LAYERS.index(_layer(name))
        for target, line in edges.items():
            if not target.startswith("regdemo.") or (_layer(name), target) in UPWARD:
                continue
            if LAYERS.index(_layer(target)) > here:
                problems.append(f"{name} (line {line}) imports {target}, a higher layer")
    assert not problems, "\n".join(problems)


def test_the_library_top_level_is_packages_and_a_few_modules():
    top = sorted(p.name for p in (ROOT / "regdemo").glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    packages = {p.name for p in (ROOT / "regdemo").iterdir() if (p / "__init__.py").exists()}
    assert set(LAYERS) == packages | {p.removesuffix(".py") for p in top} - {"__init__", "__main__"}


def test_the_library_loads_no_module_by_name():
    """No importlib in regdemo/ and no module loaded by name (__import__): every edge of the
    library is an import statement this file reads; the dev tools are run as `python -m tools.x`,
    never loaded. Where the library asks whether a package is installed (training/devices.py,
    viz/slide.py) it looks for the package's folder on sys.path."""
    problems = []
    for path in sorted((ROOT / "regdemo").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                name = "importlib" if any(m.split(".")[0] == "importlib" for m in modules) else ""
            if name in ("importlib", "import_module", "__import__", "reload"):
                problems.append(f"{path.relative_to(ROOT)}:{node.lineno} uses {name}")
    assert not problems, "\n".join(problems)


MAX_LINES = 400


def test_a_library_file_past_400_lines_says_why_it_is_kept_whole():
    """Files are split by concern; one past MAX_LINES says in its docstring why a split would cut
    one idea in two ("Kept whole at ~N lines: ...", N within 20 of the truth)."""
    problems = []
    for path in sorted((ROOT / "regdemo").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if lines <= MAX_LINES:
            continue
        docstring = ast.get_docstring(ast.parse(text)) or ""
        stated = [int(n) for n in re.findall(r"Kept whole at ~(\d+) lines: \w", docstring)]
        if not any(abs(n - lines) <= 20 for n in stated):
            problems.append(f"{path.relative_to(ROOT)}: {lines} lines; its docstring does not say why "
                            "(Kept whole at ~N lines: ...)")
    assert not problems, "\n".join(problems)


def _readme_map() -> list[str]:
    """The README's map of regdemo/: its lines from `regdemo/` to the next top-level folder."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("regdemo/ "))
    end = next(i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", ""))
    return lines[start + 1:end]


def test_the_readme_map_names_every_library_module_in_layer_order():
    entries = [line.split()[0] for line in _readme_map() if line.startswith("  ") and not line.startswith("   ")]
    layers = [e.removesuffix(".py").removesuffix("/") for e in entries]
    assert [n for n in layers if n in LAYERS] == list(LAYERS), "README map: layers out of order"
    problems = []
    for i, entry in enumerate(entries):
        package = ROOT / "regdemo" / entry
        if not entry.endswith("/") or not (package / "__init__.py").exists():
            continue
        block = " ".join(_readme_map()).split(f"  {entry}", 1)[1]
        after = entries[i + 1] if i + 1 < len(entries) else None
        block = block.split(f"  {after} ", 1)[0] if after else block
        words = set(re.findall(r"[a-z_]+", block))
        for path in sorted(package.rglob("*.py")):
            if path.stem != "__init__" and path.stem not in words:
                problems.append(f"{path.relative_to(ROOT)} is not in the README map under {entry}")
    top = sorted(p.name for p in (ROOT / "regdemo").glob("*.py"))
    problems += [f"regdemo/{name} is not in the README map" for name in top
                 if name not in ("__init__.py", "__main__.py") and name not in entries]
    assert not problems, "\n".join(problems)
