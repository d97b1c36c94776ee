"""Qt6 readiness, checked without a Qt6 QGIS (none is installable here, see README "Qt6").

Static, over the plugin's sources, resolved against the real QGIS and PyQt here:

- Qt is imported only through ``qgis.PyQt`` (never PyQt5 / PyQt6 / sip directly), so the
  plugin follows whichever Qt binding QGIS was built with;
- every enum value of a Qt or QGIS class is written scoped (``Qt.ItemFlag.ItemIsEditable``,
  ``QgsTask.Flag.CanCancel``): PyQt6 has no unscoped enum members, and QGIS builds with Qt6
  follow it. The scoped spelling must resolve on this QGIS too (3.22 and later).
"""

from __future__ import annotations

import ast
import enum
import importlib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    [REPO_ROOT / "__init__.py", REPO_ROOT / "scripts" / "screenshot.py"]
    + list((REPO_ROOT / "spex_qgis").rglob("*.py"))
)
BINDINGS = ("PyQt5", "PyQt6", "sip", "PySide2", "PySide6")
#: Classes Qt6 moved from QtWidgets to QtGui (PyQt6.QtWidgets has none of them).
MOVED_TO_QTGUI = {
    "QAction",
    "QActionGroup",
    "QShortcut",
    "QUndoCommand",
    "QUndoGroup",
    "QUndoStack",
    "QFileSystemModel",
}


def _imported_names(tree: ast.Module) -> dict[str, object]:
    """Names imported from ``qgis.*`` modules -> the real objects."""
    names: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("qgis"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name, None)
                if isinstance(value, type):
                    names[alias.asname or alias.name] = value
    return names


def _is_enum_member(value: object) -> bool:
    if isinstance(value, enum.Enum):
        return True
    kind = type(value)
    return type(kind).__name__ == "enumtype" or (
        isinstance(value, int) and type(kind).__name__ in ("sipEnumType", "EnumType")
    )


def _unscoped(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes = _imported_names(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        owner = classes.get(node.value.id)
        if owner is None or not node.attr[:1].isupper():
            continue
        value = getattr(owner, node.attr, None)
        if value is None or isinstance(value, type) or not _is_enum_member(value):
            continue  # a nested class or enum type (then scoped: X.Enum.Member), not a member
        enum_name = type(value).__name__
        scoped = getattr(getattr(owner, enum_name, None), node.attr, None)
        where = f"{path.relative_to(REPO_ROOT)}:{node.lineno}"
        hint = f"{node.value.id}.{enum_name}.{node.attr}" if scoped is not None else "?"
        found.append(f"{where}: {node.value.id}.{node.attr} -> {hint}")
    return found


def test_qt_is_imported_only_through_qgis_pyqt() -> None:
    offenders = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            for module in modules:
                if module.split(".")[0] in BINDINGS:
                    offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {module}")
    assert offenders == [], "import Qt through qgis.PyQt: " + "; ".join(offenders)


def test_classes_qt6_moved_to_qtgui_are_imported_from_qtgui_first() -> None:
    """``from qgis.PyQt.QtWidgets import QAction`` fails on Qt6; it must be the fallback of a
    ``try: from qgis.PyQt.QtGui import QAction``."""
    offenders = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        guarded = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.Try)
            for handler in block.handlers
            for node in ast.walk(handler)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.module != "qgis.PyQt.QtWidgets":
                continue
            moved = MOVED_TO_QTGUI & {alias.name for alias in node.names}
            if moved and id(node) not in guarded:
                offenders.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}: {sorted(moved)}")
    assert offenders == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_enums_are_scoped(path: Path) -> None:
    assert _unscoped(path) == []


def test_the_check_finds_an_unscoped_enum(tmp_path: Path) -> None:
    """The checker itself: an unscoped member is reported with its scoped spelling."""
    sample = REPO_ROOT / "spex_qgis" / "_qt6_probe_sample.py"
    sample.write_text(
        "from qgis.PyQt.QtCore import Qt\nfrom qgis.core import QgsTask\n"
        "A = Qt.AlignLeft\nB = Qt.AlignmentFlag.AlignLeft\nC = QgsTask.CanCancel\n",
        encoding="utf-8",
    )
    try:
        found = _unscoped(sample)
    finally:
        sample.unlink()
    assert [line.split(": ", 1)[1] for line in found] == [
        "Qt.AlignLeft -> Qt.AlignmentFlag.AlignLeft",
        "QgsTask.CanCancel -> QgsTask.Flag.CanCancel",
    ]
