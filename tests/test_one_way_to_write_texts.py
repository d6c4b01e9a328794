"""There is one way to write a text: English in the code as a gettext message id, German in the
catalog. No module chooses a text by comparing a language or by a dictionary keyed by it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "dialogs", "adapters", "storage")
LANGUAGE_CODES = {"de", "en"}
# The one place that maps languages to locales and catalogs.
ALLOWED = {Path("dialogs/i18n.py")}


def modules() -> Iterator[tuple[Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative not in ALLOWED:
                yield relative, ast.parse(path.read_text(encoding="utf-8"))


def is_language_code(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in LANGUAGE_CODES


def language_comparisons(tree: ast.Module) -> Iterator[int]:
    """`x == "de"`, `"en" != y`, `x in ("de", "en")`."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        spread = [
            element
            for operand in operands
            for element in (operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set)
                             else [operand])
        ]  # fmt: skip
        if any(is_language_code(operand) for operand in spread):
            yield node.lineno


def dictionaries_by_language(tree: ast.Module) -> Iterator[int]:
    """`{"en": …, "de": …}`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and any(
            key is not None and is_language_code(key) for key in node.keys
        ):
            yield node.lineno


def texts_extraction_cannot_see(tree: ast.Module) -> Iterator[int]:
    """`gettext_for(language)("…")`: only calls named `_`, `N_` or `ngettext` are extracted,
    so this text would never reach the catalog."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Call)
            and isinstance(node.func.func, ast.Name)
            and node.func.func.id in {"gettext_for", "ngettext_for"}
            and any(isinstance(arg, ast.Constant | ast.JoinedStr) for arg in node.args)
        ):
            yield node.lineno


# The understanding step reads people's words, not the bot's: its corpus has a language column.
READS_WORDS = Path("dialogs/understanding")


def test_no_module_chooses_a_text_by_comparing_a_language() -> None:
    found = [
        f"{path}:{line}"
        for path, tree in modules()
        if not path.is_relative_to(READS_WORDS)
        for line in language_comparisons(tree)
    ]
    assert not found, "write the English text as a message id instead:\n" + "\n".join(found)


def test_no_module_keeps_texts_in_a_dictionary_by_language() -> None:
    found = [
        f"{path}:{line}" for path, tree in modules() for line in dictionaries_by_language(tree)
    ]
    assert not found, "write the English text as a message id instead:\n" + "\n".join(found)


def test_every_text_is_written_where_extraction_finds_it() -> None:
    found = [
        f"{path}:{line}" for path, tree in modules() for line in texts_extraction_cannot_see(tree)
    ]
    assert not found, 'use `_ = gettext_for(language)` and `_("…")`:\n' + "\n".join(found)


def test_the_old_text_table_is_gone() -> None:
    assert not (ROOT / "dialogs" / "texts.py").exists()


def test_the_scan_finds_what_it_looks_for() -> None:
    sample = ast.parse(
        'if lang == "de":\n    x = {"en": "Hi", "de": "Hallo"}\n'
        'y = gettext_for(lang)("Hello")\nz = lang in ("de", "en")\n'
    )
    assert list(language_comparisons(sample)) == [1, 4]
    assert list(dictionaries_by_language(sample)) == [2]
    assert list(texts_extraction_cannot_see(sample)) == [3]
