"""The house rules of src/kb, read from the code itself (see the README's "How it is built")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
MODULES = sorted((SRC / "kb").rglob("*.py"))
# Whoosh's modules below its public API: codecs, readers, writers' internals, packing
WHOOSH_INTERNALS = (
    "whoosh.codec",
    "whoosh.util",
    "whoosh.system",
    "whoosh.formats",
    "whoosh.automata",
    "whoosh.matching",
    "whoosh.filedb",
)


def _name(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text("utf-8"), str(path))


def _imports(path: Path):
    """Yield (line, module, name or None) for every import in a module, nested ones too."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, None
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                yield node.lineno, node.module, a.name


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(SRC)}:{line}"


def test_no_module_imports_another_modules_private_name():
    found = [
        f"{_where(p, line)}: from {mod} import {name}"
        for p in MODULES
        for line, mod, name in _imports(p)
        if mod.startswith("kb") and name and name.startswith("_") and mod != _name(p)
    ]
    assert found == []


def test_no_module_reaches_into_another_modules_private_names():
    """``module._name`` on a kb module imported as a module (``from kb import x``)."""
    found = []
    for p in MODULES:
        modules = {
            name for _, mod, name in _imports(p) if mod.startswith("kb") and name and name.islower()
        }
        for node in ast.walk(_tree(p)):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
            ):
                found.append(f"{_where(p, node.lineno)}: {node.value.id}.{node.attr}")
    assert found == []


def test_whooshs_internals_are_used_only_inside_the_engine_fence():
    found = [
        f"{_where(p, line)}: {mod}"
        for p in MODULES
        if "engine" not in p.relative_to(SRC / "kb").parts
        for line, mod, name in _imports(p)
        if mod.startswith(WHOOSH_INTERNALS)
        or (mod == "whoosh.writing" and name != "OPTIMIZE")  # the segment writer's internals
        or (mod == "whoosh.reading" and name != "IndexReader")  # a segment's reader
    ]
    assert found == []


def test_the_engine_refuses_a_whoosh_it_was_not_written_for():
    from kb.engine import WHOOSH_VERSION, check_version
    from kb.errors import KbError

    check_version(WHOOSH_VERSION + (0,))
    with pytest.raises(KbError, match=r"written for Whoosh 3\.54 and Whoosh 3\.99\.0 is installed"):
        check_version((3, 99, 0))


def test_streamlit_is_imported_only_by_the_pages():
    found = [
        f"{_where(p, line)}: {mod}"
        for p in MODULES
        if p.relative_to(SRC / "kb").parts[0] != "ui"
        for line, mod, _ in _imports(p)
        if mod.split(".")[0] == "streamlit"
    ]
    assert found == []


def test_only_settings_reads_the_environment():
    found = []
    for p in MODULES:
        if p.name == "settings.py":
            continue
        for node in ast.walk(_tree(p)):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
                found.append(_where(p, node.lineno))
    # `kb serve` hands its own environment to the server it starts, with the two folders set
    assert found == ["kb/cli.py:" + str(_serve_env_line())]


def _serve_env_line() -> int:
    text = (SRC / "kb" / "cli.py").read_text("utf-8").splitlines()
    return next(i for i, line in enumerate(text, 1) if "dict(os.environ, KB_CORPUS=" in line)


def test_every_error_kb_reports_is_defined_in_errors():
    found = []
    for p in MODULES:
        if p.name == "errors.py" and p.parent.name == "kb":
            continue
        for node in ast.walk(_tree(p)):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id.endswith("Error") for b in node.bases
            ):
                found.append(f"{_where(p, node.lineno)}: {node.name}")
    assert found == []


def test_packages_are_at_most_two_levels_deep():
    assert [p for p in MODULES if len(p.relative_to(SRC / "kb").parts) > 3] == []


def test_every_package_says_what_it_holds():
    """Each folder of modules is a package whose docstring a newcomer reads first."""
    folders = {p.parent for p in MODULES}
    missing = [str(f.relative_to(SRC)) for f in folders if not (f / "__init__.py").exists()]
    assert missing == []
    silent = [
        str(f.relative_to(SRC)) for f in folders if not ast.get_docstring(_tree(f / "__init__.py"))
    ]
    assert silent == []
