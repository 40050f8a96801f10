"""The engine is pure (STYLE: a pure engine, enforced).

`slaclock.engine` may import only the standard library, `holidays` (and `tzdata` through zoneinfo), and
itself: never boto3, botocore, pynamodb, powertools, pydantic, yaml, or the edges of slaclock (services,
adapters, runtime, handlers: the engine is the lowest layer). It never reads the clock: `now` is always a
parameter. And it holds no hidden process state: no module-level dict, list or set that the module
mutates (a cache keyed by `id()` or by objects), no `global` rebinding, and `functools` caches only on
functions of plain values (str, int, float, bool, None), whose results cannot depend on anything else.

Across `slaclock`, no module imports itself back through others (an import cycle), counting imports
inside functions too: a function-local import must not be what breaks a cycle.
"""

import ast
import pathlib
import sys

import pytest
import slaclock
import slaclock.engine

ALLOWED_THIRD_PARTY = {"holidays"}
CLOCK_READS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns"}


def _engine_files() -> list[pathlib.Path]:
    root = pathlib.Path(slaclock.engine.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 5, "engine package not found"
    return files


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _forbidden_imports(tree: ast.AST) -> set[str]:
    bad = set()
    for name in _imports(tree):
        top = name.split(".")[0]
        if name == "slaclock.engine" or name.startswith("slaclock.engine."):
            continue
        if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY:
            continue
        bad.add(name)
    return bad


_MUTATORS = {
    "append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "clear", "remove",
    "discard",
}  # fmt: skip
_PLAIN_VALUE_TYPES = {"str", "int", "float", "bool", "None"}
# Module-level caches in engine modules other work owns, to be removed there (file name -> names).
KNOWN_CACHES = {"reports.py": {"_DAY_PREFIX"}}


def _mutable_module_state(tree: ast.Module) -> set[str]:
    """Module-level names bound to a dict/list/set (display, comprehension or constructor call) that the
    module mutates (item assignment or deletion, a mutating method, augmented assignment), every
    `global` statement, and `functools` caches on functions of anything but plain values."""
    containers: set[str] = set()
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        mutable = isinstance(
            value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp
        ) or (
            isinstance(value, ast.Call)
            and (getattr(value.func, "id", None) or getattr(value.func, "attr", None))
            in {
                "dict",
                "list",
                "set",
                "defaultdict",
                "OrderedDict",
                "WeakKeyDictionary",
                "WeakValueDictionary",
            }
        )
        if mutable:
            containers.update(t.id for t in targets if isinstance(t, ast.Name))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            found.update(f"global {n}" for n in node.names)
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            for t in node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]:
                base = (
                    t.value
                    if isinstance(t, ast.Subscript)
                    else t
                    if isinstance(node, ast.AugAssign)
                    else None
                )
                if isinstance(base, ast.Name) and base.id in containers:
                    found.add(base.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in containers and node.func.attr in _MUTATORS:
                found.add(owner.id)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for d in node.decorator_list:
                f = d.func if isinstance(d, ast.Call) else d
                if (getattr(f, "id", None) or getattr(f, "attr", None)) not in {"lru_cache", "cache"}:
                    continue
                args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                names = {
                    n.id
                    for a in args
                    if a.annotation
                    for n in ast.walk(a.annotation)
                    if isinstance(n, ast.Name)
                }
                consts = {
                    "None"
                    for a in args
                    if a.annotation
                    for n in ast.walk(a.annotation)
                    if isinstance(n, ast.Constant)
                }
                if any(a.annotation is None for a in args) or not (names | consts) <= _PLAIN_VALUE_TYPES:
                    found.add(f"cached {node.name}()")
    return found


def _clock_reads(tree: ast.AST) -> set[str]:
    """Calls like datetime.now(), date.today(), time.time(): reading the wall clock."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if node.func.attr in CLOCK_READS and owner_name in {"datetime", "date", "time"}:
                found.add(f"{owner_name}.{node.func.attr}()")
    return found


@pytest.mark.parametrize("path", _engine_files(), ids=lambda p: p.name)
def test_engine_module_imports_only_stdlib_holidays_and_the_engine(path):
    assert not _forbidden_imports(ast.parse(path.read_text(), str(path)))


@pytest.mark.parametrize("path", _engine_files(), ids=lambda p: p.name)
def test_engine_module_never_reads_the_clock(path):
    assert not _clock_reads(ast.parse(path.read_text(), str(path)))


@pytest.mark.parametrize("path", _engine_files(), ids=lambda p: p.name)
def test_engine_module_holds_no_mutable_module_state(path):
    found = _mutable_module_state(ast.parse(path.read_text(), str(path)))
    assert found - KNOWN_CACHES.get(path.name, set()) == set()


def test_the_state_check_catches_caches_and_allows_constants():
    tree = ast.parse(
        "import functools\nfrom functools import lru_cache\n"
        "_BY_ID: dict[int, object] = {}\nLAST = []\nSEEN = set()\nCONST = {'a': 1}\nNAMES = ('x',)\n"
        "TABLE = {k: 1 for k in 'ab'}\n"
        "def f(config):\n    _BY_ID[id(config)] = config\n    LAST.append(1)\n"
        "    return CONST['a'] + TABLE['a']\n"
        "def g():\n    global NAMES\n    NAMES = ()\n    SEEN.add(1)\n"
        "@lru_cache(maxsize=8)\ndef h(country: str, year: int, sub: str | None) -> int:\n    return 1\n"
        "@functools.cache\ndef k(config: object) -> int:\n    return 1\n"
    )
    assert _mutable_module_state(tree) == {"_BY_ID", "LAST", "SEEN", "global NAMES", "cached k()"}


def _slaclock_modules() -> dict[str, pathlib.Path]:
    root = pathlib.Path(slaclock.__file__).parent
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = ["slaclock", *path.relative_to(root).with_suffix("").parts]
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _import_graph(modules: dict[str, pathlib.Path]) -> dict[str, set[str]]:
    """Module -> the slaclock modules it imports anywhere in its body (functions included; imports
    under ``if TYPE_CHECKING:`` are skipped: they never run)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        skip = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)
        }
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                for a in node.names:
                    full = f"{base}.{a.name}"
                    deps.add(full if full in modules else base)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles_inside_slaclock():
    assert _cycles(_import_graph(_slaclock_modules())) == []


def test_the_cycle_check_finds_a_cycle_broken_by_a_function_local_import(tmp_path):
    files = {
        "slaclock.a": "from slaclock.b import x\n",
        "slaclock.b": "def x():\n    from slaclock import c\n",  # the function-local import
        "slaclock.c": "import slaclock.a\n",
        "slaclock.d": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from slaclock.a import y\n",
    }
    modules = {}
    for name, text in files.items():
        modules[name] = tmp_path / f"{name}.py"
        modules[name].write_text(text)
    graph = _import_graph(modules)
    assert graph == {"slaclock.a": {"slaclock.b"}, "slaclock.b": {"slaclock.c"}, "slaclock.c": {"slaclock.a"},
                     "slaclock.d": set()}  # fmt: skip
    assert _cycles(graph) == [{"slaclock.a", "slaclock.b", "slaclock.c"}]


def test_the_checks_catch_what_they_forbid():
    tree = ast.parse(
        "import boto3\nfrom botocore.config import Config\nimport yaml\nfrom slaclock.adapters import s3\n"
        "import json, holidays\nfrom slaclock.engine.events import Event\n"
        "x = datetime.now(UTC)\ny = date.today()\nz = time.time()\nw = t.replace(hour=1)\n"
    )
    assert _forbidden_imports(tree) == {"boto3", "botocore.config", "yaml", "slaclock.adapters"}
    assert _clock_reads(tree) == {"datetime.now()", "date.today()", "time.time()"}
