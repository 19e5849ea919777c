"""The allowed direction of imports between the apps, checked on the source (issue 25).

Why a table: an app that imports an app "above" it (accounts importing kiosk, audit importing accounts) makes
the two one lump — neither can be read, tested or changed without the other, and the four-eyes cycle of issue
25 grew exactly that way. Every app therefore has a fixed list of the apps it may import (LAYERS below, the
same table as the README's architecture section). Reaching upward goes through the app registry
(`django.apps.apps.get_model("kiosk", "Kiosk")`), string foreign keys, signals, or a handler an upper app
registers from its own `AppConfig.ready` — never an import.

How it is checked: every .py file of the apps is parsed with `ast` (nothing is imported or run) and every
`import x` / `from x import y` is collected, at module level, inside functions and under TYPE_CHECKING alike —
a function-level import is the same dependency, only deferred. Relative imports are resolved against the
file's package; `from pkg import name` counts as an import of `pkg.name` when that is a module of ours.

atmsite is two layers: its core modules (errors, crypto, permissions, admin helpers...) sit below every app
and import none; its wiring (settings, urls, celery, wsgi/asgi, gunicorn_conf and the package __init__, which
loads celery) assembles the apps and may import anything, but no app imports it — apps read configuration
through `django.conf.settings`.

Migrations are included: they import only django, their own app and third-party field modules, so they pass.
tests/ and scripts/ are not apps and may import anything.
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WIRING = "atmsite wiring"  # the assembling part of atmsite; "atmsite" below means its core modules
# The package itself (its __init__ loads celery) and these modules, with everything under them.
WIRING_MODULES: tuple[str, ...] = ("atmsite.settings", "atmsite.urls", "atmsite.celery", "atmsite.wsgi")
WIRING_MODULES += ("atmsite.asgi", "atmsite.gunicorn_conf")

_BELOW_KIOSK = frozenset({"biometrics", "accounts", "audit", "notifications", "atmsite"})
# The layer table: each app may import only the apps listed for it (its own modules always).
LAYERS: dict[str, frozenset[str]] = {
    "atmsite": frozenset(),
    "notifications": frozenset({"atmsite"}),
    "audit": frozenset({"atmsite"}),
    "accounts": frozenset({"audit", "notifications", "atmsite"}),
    "biometrics": frozenset({"accounts", "audit", "notifications", "atmsite"}),
    "kiosk": _BELOW_KIOSK,
    "portal": _BELOW_KIOSK | {"kiosk"},
    "branch": _BELOW_KIOSK | {"kiosk"},
    "bench": _BELOW_KIOSK | {"kiosk", "portal", "branch"},
    WIRING: _BELOW_KIOSK | {"kiosk", "portal", "branch", "bench"},
}
# bench may use the other apps' services and models to seed and measure, but not the pages people use.
FORBIDDEN_FOR: dict[str, tuple[str, ...]] = {
    "bench": ("portal.views", "portal.urls", "branch.views", "branch.urls")
}

# Imports that break the table today and are being removed on other branches of this round. Each entry is
# (importing module, imported module); an entry that no longer occurs fails the test: the list only shrinks.
KNOWN_PENDING: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted
    target: str  # the imported module, dotted
    line: int

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def layer_of(module: str) -> str | None:
    """The layer a dotted module belongs to (None for django, third-party and the standard library)."""
    top = module.split(".")[0]
    if top == "atmsite":
        is_wiring = any(module == w or module.startswith(w + ".") for w in WIRING_MODULES)
        return WIRING if module == "atmsite" or is_wiring else "atmsite"
    return top if top in LAYERS else None


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _is_our_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_in(source: str, module: str, *, is_package: bool = False) -> list[Import]:
    """Every import statement of `source` (the text of `module`), at any depth, relative ones resolved."""
    found: list[Import] = []
    for node in ast.walk(ast.parse(source, filename=module)):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                target = submodule if alias.name != "*" and _is_our_module(submodule) else base
                found.append(Import(module, target, node.lineno))
    return found


def _imports_of(path: Path) -> list[Import]:
    module, is_package = _module_name(path)
    return imports_in(path.read_text(encoding="utf-8"), module, is_package=is_package)


@cache
def all_imports() -> tuple[Import, ...]:
    found: list[Import] = []
    for app in sorted(LAYERS.keys() - {WIRING}):
        if (ROOT / app).is_dir():
            for path in sorted((ROOT / app).rglob("*.py")):
                found += _imports_of(path)
    return tuple(found)


def cross_layer_imports(imports: tuple[Import, ...] | list[Import]) -> list[tuple[str, str, Import]]:
    """(source layer, target layer, import) for each import that leaves its own layer."""
    crossings = []
    for imp in imports:
        source, target = layer_of(imp.source), layer_of(imp.target)
        if source is not None and target is not None and source != target:
            crossings.append((source, target, imp))
    return crossings


def test_the_scan_sees_every_app_and_function_level_imports() -> None:
    # The parser must see what it is meant to police: each app, and imports inside function bodies.
    seen = {layer_of(imp.source) for imp in all_imports()}
    assert {"atmsite", WIRING, "notifications", "audit", "accounts", "biometrics", "kiosk", "portal"} <= seen
    assert "bench" in seen
    tree = ast.parse("def f():\n    from ..models import X\n")
    assert any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
    relative = [imp for imp in all_imports() if imp.source == "kiosk.services.sessions"]
    assert any(imp.target.startswith("kiosk.models") for imp in relative), "relative imports are resolved"


def test_the_checker_reports_a_planted_upward_import_and_cycle() -> None:
    # The same functions the real tests run, on source written here: a deferred import inside a function,
    # a relative one resolved across packages, `from pkg import module`, and the wiring.
    planted = imports_in(
        "def f():\n    from kiosk.models import Kiosk\n"
        "from ...biometrics import selectors\n"
        "from atmsite import celery\n",
        "accounts.services.planted",
    )
    assert sorted(imp.target for imp in planted) == ["atmsite.celery", "biometrics.selectors", "kiosk.models"]
    violations = {line.split(" (")[0] for line in layer_violations(planted)[0]}
    assert violations == {
        "accounts.services.planted:2 imports kiosk.models",
        "accounts.services.planted:3 imports biometrics.selectors",
        "accounts.services.planted:4 imports atmsite.celery",
    }
    upward = imports_in("from accounts.models import Customer\n", "audit.planted")
    downward = imports_in("from audit.models import AuditEvent\n", "accounts.planted")
    assert import_cycle(upward + downward).startswith("accounts -> audit -> accounts\n")
    assert not import_cycle(downward)
    bench = imports_in("from portal import views\nfrom portal.services import controls\n", "bench.planted")
    assert [line.split(" (")[0] for line in layer_violations(bench)[0]] == [
        "bench.planted:1 imports portal.views"
    ]


def layer_violations(imports: tuple[Import, ...] | list[Import]) -> tuple[list[str], set[tuple[str, str]]]:
    """The imports against the table (one line each), and the KNOWN_PENDING entries met on the way."""
    pending_seen: set[tuple[str, str]] = set()
    violations: dict[str, None] = {}  # ordered and without the repeats of `from x import a, b`
    for source, target, imp in cross_layer_imports(imports):
        forbidden = FORBIDDEN_FOR.get(source, ())
        allowed = target in LAYERS[source] and not imp.target.startswith(forbidden)
        if allowed:
            continue
        if (imp.source, imp.target) in KNOWN_PENDING:
            pending_seen.add((imp.source, imp.target))
            continue
        violations[f"{imp.where} ({source} may import only {sorted(LAYERS[source]) or 'no app'})"] = None
    return list(violations), pending_seen


def test_imports_follow_the_layer_table() -> None:
    violations, pending_seen = layer_violations(all_imports())
    assert not violations, "imports against the layer table:\n" + "\n".join(violations)
    stale = sorted(KNOWN_PENDING - pending_seen)
    assert not stale, f"no longer imported, remove from KNOWN_PENDING: {stale}"


def import_cycle(imports: tuple[Import, ...] | list[Import]) -> str:
    """The first cycle between apps with one import per step, or "" (KNOWN_PENDING imports left out)."""
    edges: dict[str, set[str]] = defaultdict(set)
    example: dict[tuple[str, str], Import] = {}
    for source, target, imp in cross_layer_imports(imports):
        if (imp.source, imp.target) not in KNOWN_PENDING:
            edges[source].add(target)
            example.setdefault((source, target), imp)

    def cycle_from(start: str) -> list[str] | None:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges[node]):
                if nxt == start:
                    return [*path, start]
                if nxt not in path:
                    stack.append((nxt, [*path, nxt]))
        return None

    for layer in sorted(edges):
        cycle = cycle_from(layer)
        if cycle:
            steps = [example[(a, b)].where for a, b in itertools.pairwise(cycle)]
            return " -> ".join(cycle) + "\n" + "\n".join(steps)
    return ""


def test_no_import_cycle_between_apps() -> None:
    cycle = import_cycle(all_imports())
    assert not cycle, f"import cycle between apps: {cycle}"


def test_the_table_itself_has_no_cycle_and_the_checker_catches_an_upward_import() -> None:
    # A table with a cycle would let the first test pass on a cycle; an upward import must be reported.
    order = ["atmsite", "notifications", "audit", "accounts", "biometrics", "kiosk", "portal", "branch"]
    order += ["bench", WIRING]
    for position, layer in enumerate(order):
        assert LAYERS[layer] <= set(order[:position]), f"{layer} may import a layer above it"
    assert layer_of("kiosk.models") not in LAYERS["accounts"]
    assert layer_of("atmsite.settings.kiosk") == WIRING and WIRING not in LAYERS["bench"]
    assert layer_of("atmsite.errors") == "atmsite"
