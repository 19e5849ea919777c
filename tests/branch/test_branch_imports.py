"""The branch app is UI only (issue 25): it reaches the apps through their modules, and nothing reaches back.

Every import counts, function-level ones included, so the check reads the source rather than sys.modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.urls import resolve

REPO = Path(__file__).resolve().parents[2]
APPS = {"accounts", "atmsite", "audit", "bench", "biometrics", "branch", "kiosk", "notifications", "portal"}
BRANCH_MAY_IMPORT = {"accounts", "atmsite", "audit", "biometrics", "branch", "kiosk", "notifications"}
# atmsite's wiring modules may import anything; branch may use only atmsite's core modules.
ATMSITE_WIRING = {"atmsite.settings", "atmsite.urls", "atmsite.celery", "atmsite.wsgi", "atmsite.asgi"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _app_sources() -> list[Path]:
    return [
        path for app in sorted(APPS) for path in (REPO / app).rglob("*.py") if "migrations" not in path.parts
    ]


def _module(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def _is_wiring(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in ATMSITE_WIRING)


def test_the_sources_are_found_and_relative_imports_resolved() -> None:
    modules = {_module(path) for path in _app_sources()}
    assert {"branch.views", "branch.views_cardless", "branch.urls", "atmsite.urls"} <= modules
    cardless_imports = _imports(REPO / "branch" / "views_cardless.py")
    assert {"branch.views.branch_staff_required", "kiosk.selectors"} <= cardless_imports
    assert "accounts.forms" in _imports(REPO / "accounts" / "admin" / "cards.py")  # `from ..forms import`


def test_no_app_imports_branch_but_the_url_wiring() -> None:
    offenders = sorted(
        f"{_module(path)} imports {name}"
        for path in _app_sources()
        if not _module(path).startswith("branch") and not _is_wiring(_module(path))
        for name in _imports(path)
        if name == "branch" or name.startswith("branch.")
    )
    assert offenders == []
    # The one way in: atmsite.urls includes branch.urls (a string, so the pages still answer at /branch/).
    assert resolve("/branch/").func.__module__ == "branch.views"
    assert resolve("/branch/customers/1/cardless/").func.__module__ == "branch.views_cardless"


def test_branch_imports_only_the_apps_below_it() -> None:
    offenders = sorted(
        f"{_module(path)} imports {name}"
        for path in (REPO / "branch").rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in APPS and (name.split(".")[0] not in BRANCH_MAY_IMPORT or _is_wiring(name))
    )
    assert offenders == []
