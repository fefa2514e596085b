"""The package's shape: imports point down the layers (none inside functions either, so no cycle
hides behind a late import), and no module outgrows 400 lines. docs/design.md draws it."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "charrnn"

# Lower layers never import higher ones; within a layer, only modules of the same folder import
# each other (so abc/, music/ and nn/ stay independent of one another).
LAYERS = [
    ["charrnn.errors", "charrnn.files"],
    ["charrnn.checks"],
    ["charrnn.abc"],
    ["charrnn.music", "charrnn.nn", "charrnn.similarity"],
    ["charrnn.tune", "charrnn.sources"],
    ["charrnn.form", "charrnn.critic"],  # form and critic; their CLI commands (*.command) sit with training's
    ["charrnn.steering"],
    ["charrnn.corpus", "charrnn.generator", "charrnn.render"],
    ["charrnn.training", "charrnn.augment", "charrnn.evaluation", "charrnn.survey",
     "charrnn.form.command", "charrnn.critic.command"],
    ["charrnn.cli", "charrnn.composer", "charrnn"],  # charrnn itself: the public API in __init__.py
    ["charrnn.__main__"],
]
MAX_LINES = 400


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def group(module):
    """(layer, group): the LAYERS entry a module falls under (the longest matching prefix)."""
    best = None
    for layer, groups in enumerate(LAYERS):
        for g in groups:
            inside = module == g or (g != "charrnn" and module.startswith(g + "."))
            if inside and (best is None or len(g) > len(best[1])):
                best = (layer, g)
    assert best is not None, f"{module} is in no layer: add it to LAYERS (and docs/design.md)"
    return best


def charrnn_imports(path):
    """Every charrnn module a file imports, at the top or inside a function."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "charrnn"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            if target.split(".")[0] != "charrnn":
                continue
            if node.module is None:  # from . import x: x is a module of the package
                found |= {f"{target}.{a.name}" for a in node.names}
            else:
                found.add(target)
    return found - {module}


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path):
    layer, own = group(module_name(path))
    for target in charrnn_imports(path):
        their_layer, theirs = group(target)
        assert their_layer < layer or (their_layer == layer and theirs == own), \
            f"{module_name(path)} (layer {layer}) imports {target} (layer {their_layer})"


def test_no_import_cycle_within_a_folder():
    graph = {module_name(p): charrnn_imports(p) for p in MODULES}
    done, path = set(), []

    def visit(module):
        if module in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        path.append(module)
        for target in graph.get(module, ()):
            if target != module.rpartition(".")[0]:  # a module's own package __init__ runs first anyway
                visit(target)
        path.pop()
        done.add(module)

    for module in graph:
        visit(module)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES
