"""The import rule (``dabai/_layers.py``, docs/architecture.md) holds for every import in src/dabai.

Imports are read with ``ast``, not by importing: top-level ones, lazy ones inside functions, relative
ones, and ``importlib.import_module`` with a literal name. ``from dabai import Detector`` counts as an
import of the module the root's lazy table maps ``Detector`` to.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from dabai._layers import MAY_IMPORT, NEVER

SRC = Path(__file__).resolve().parents[1] / "src"


@dataclass(frozen=True)
class Arrow:
    file: str
    line: int
    importer: str  # module
    imported: str  # module

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.importer} imports {self.imported} ({part(self.importer)} -> {part(self.imported)})"


def part(module: str) -> str:
    """The part of a dotted module name: dabai.runtime.backends -> runtime; the root counts as core."""
    names = module.split(".")
    return names[1] if len(names) > 1 else "core"


def module_name(path: Path, src: Path) -> str:
    names = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(names[:-1] if names[-1] == "__init__" else names)


def _exists(module: str, src: Path) -> bool:
    base = src.joinpath(*module.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _lazy_table(package: str, src: Path) -> dict[str, str]:
    """The ``_LAZY = {name: module}`` table of a package's __init__, if it has one."""
    init = src.joinpath(*package.split(".")) / "__init__.py"
    if not init.is_file():
        return {}
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in targets) and isinstance(node.value, ast.Dict):
            return {k.value: v.value for k, v in zip(node.value.keys, node.value.values)
                    if isinstance(k, ast.Constant) and isinstance(v, ast.Constant)}
    return {}


def imports_of(path: Path, src: Path) -> list[Arrow]:
    """Every import of a dabai module in one file."""
    module = module_name(path, src)
    is_package = path.name == "__init__.py"
    rel = str(path.relative_to(src))
    arrows = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .x import y / from .. import y
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            lazy = _lazy_table(base, src)
            for alias in node.names:
                if _exists(f"{base}.{alias.name}", src):
                    targets.append(f"{base}.{alias.name}")
                else:
                    targets.append(lazy.get(alias.name, base))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            targets = [node.args[0].value]
        arrows += [Arrow(rel, node.lineno, module, t) for t in targets if t == "dabai" or t.startswith("dabai.")]
    return arrows


def all_imports(src: Path = SRC) -> list[Arrow]:
    return [a for path in sorted((src / "dabai").rglob("*.py")) for a in imports_of(path, src)]


def forbidden(arrows: list[Arrow], rule: dict[str, frozenset[str]] = MAY_IMPORT) -> list[Arrow]:
    """The arrows between two parts that ``rule`` does not allow (an unknown part allows nothing)."""
    return [a for a in arrows if part(a.importer) != part(a.imported)
            and part(a.imported) not in rule.get(part(a.importer), frozenset())]


def reach(rule: dict[str, frozenset[str]]) -> dict[str, set[str]]:
    """Every part each part reaches through the rule, directly or not."""
    out: dict[str, set[str]] = {}
    for start in rule:
        seen, todo = set(), list(rule[start])
        while todo:
            p = todo.pop()
            if p not in seen:
                seen.add(p)
                todo.extend(rule.get(p, ()))
        out[start] = seen
    return out


def cycles(rule: dict[str, frozenset[str]]) -> list[str]:
    return sorted(p for p, reached in reach(rule).items() if p in reached)


# ---- the rule holds -------------------------------------------------------------------------------

def test_every_import_is_allowed():
    arrows = all_imports()
    assert len(arrows) > 300  # the reader does see the imports
    bad = forbidden(arrows)
    assert not bad, "imports against dabai/_layers.py (see docs/architecture.md):\n" + "\n".join(map(str, bad))


def test_every_part_is_in_the_table():
    parts = {part(module_name(p, SRC)) for p in (SRC / "dabai").rglob("*.py")}
    assert parts == set(MAY_IMPORT), "add the part to MAY_IMPORT in dabai/_layers.py (or remove the stale one)"
    for allowed in MAY_IMPORT.values():
        assert allowed <= set(MAY_IMPORT)


def test_the_table_has_no_cycle_and_keeps_the_never_rules():
    assert not cycles(MAY_IMPORT), f"parts that can import themselves through others: {cycles(MAY_IMPORT)}"
    reached = reach(MAY_IMPORT)
    for importer, banned in NEVER.items():
        assert not reached[importer] & banned, f"{importer} reaches {sorted(reached[importer] & banned)}"
    assert not reached["core"]


def test_no_cycle_between_parts_in_the_code():
    actual: dict[str, set[str]] = {}
    for a in all_imports():
        if part(a.importer) != part(a.imported):
            actual.setdefault(part(a.importer), set()).add(part(a.imported))
    assert not cycles({k: frozenset(v) for k, v in actual.items()})


# ---- the checker can fail -------------------------------------------------------------------------

@pytest.fixture
def fake_tree(tmp_path):
    def write(files: dict[str, str]) -> Path:
        for name, text in {"dabai/__init__.py": "_LAZY = {'Trainer': 'dabai.train.api'}\n", **files}.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            for parent in path.relative_to(tmp_path).parents[:-1]:
                (tmp_path / parent / "__init__.py").touch()
        return tmp_path
    return write


@pytest.mark.parametrize("where, text", [
    ("dabai/runtime/backends.py", "from dabai.train.checkpoint import load_checkpoint\n"),  # runtime -> train
    ("dabai/runtime/backends.py", "def f():\n    import dabai.train.checkpoint\n"),  # lazy, inside a function
    ("dabai/runtime/backends.py", "def f():\n    from ..export import tensorrt\n"),  # relative
    ("dabai/runtime/backends.py", "import importlib\nimportlib.import_module('dabai.train.api')\n"),
    ("dabai/gate/check.py", "from dabai import Trainer\n"),  # a lazy export of the root, resolved
    ("dabai/serve/app.py", "from dabai.train import api\n"),
    ("dabai/data/read.py", "from dabai.models.registry import create_model\n"),  # data -> models
    ("dabai/data/read.py", "from dabai.runtime.types import Detection\n"),  # data -> runtime
    ("dabai/core/images.py", "from dabai.data import dataset\n"),  # the bottom layer -> above it
    ("dabai/newpart/x.py", "from dabai.core.errors import DataError\n"),  # a part missing from the table
])
def test_a_forbidden_import_is_reported(fake_tree, where, text):
    for module in ("train/api.py", "train/checkpoint.py", "export/tensorrt.py", "models/registry.py",
                   "runtime/types.py", "data/dataset.py", "core/errors.py"):
        fake_tree({f"dabai/{module}": ""})
    src = fake_tree({where: text})
    bad = forbidden(all_imports(src))
    assert len(bad) == 1 and bad[0].file == where, bad


def test_allowed_imports_are_not_reported(fake_tree):
    src = fake_tree({"dabai/core/errors.py": "", "dabai/train/api.py": "", "dabai/export/onnx.py": "",
                     "dabai/runtime/backends.py": "from dabai.core.errors import ModelError\nfrom . import types\n",
                     "dabai/runtime/types.py": "", "dabai/pipeline.py": "def f():\n    from dabai.train.api import x\n"
                                                                           "    from dabai.export import onnx\n"})
    arrows = all_imports(src)
    assert {str(a.imported) for a in arrows} >= {"dabai.core.errors", "dabai.runtime.types", "dabai.train.api",
                                                  "dabai.export.onnx"}
    assert forbidden(arrows) == []


def test_a_cycle_in_a_table_is_found():
    assert cycles({"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}) == ["a", "b", "c"]
    assert cycles(MAY_IMPORT) == []
