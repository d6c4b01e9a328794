"""The channel SDKs stay at the edge: each is imported by exactly one adapter package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("bot", "adapters", "dialogs", "storage", "manifest")
SDK_HOMES = {
    "botbuilder": "adapters/teams",
    "botframework": "adapters/teams",
    "webexteamssdk": "adapters/webex",
}
# The layer rules of ARCHITECTURE.md: what each package may import from the others.
MAY_IMPORT = {
    "storage": {"storage"},
    "adapters": {"adapters", "storage.errors"},
    "dialogs": {"dialogs", "adapters.model", "adapters.cards", "adapters.ports", "storage"},
    "manifest": {"manifest"},
    "bot": {"bot", "adapters", "dialogs", "storage", "manifest"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def product_files() -> list[Path]:
    return [path for package in PRODUCT_PACKAGES for path in (ROOT / package).rglob("*.py")]


@pytest.mark.parametrize("sdk", sorted(SDK_HOMES))
def test_channel_sdks_are_imported_only_in_their_adapter(sdk: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in product_files()
        if any(m == sdk or m.startswith(f"{sdk}.") for m in imported_modules(path))
        and not str(path.relative_to(ROOT)).startswith(SDK_HOMES[sdk])
    ]
    assert offenders == []


def test_layers_import_only_what_they_may() -> None:
    offenders = []
    for path in product_files():
        package = path.relative_to(ROOT).parts[0]
        allowed = MAY_IMPORT[package]
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top not in PRODUCT_PACKAGES:
                continue
            if not any(module == a or module.startswith(f"{a}.") for a in allowed):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []
