"""The map in docs/architecture.md stays true: no import cycle in src/, imports only go down the layers, one method
index that agrees with the transformers Auto mappings, and no method list outside the declarations."""

import ast
import importlib
import re
from pathlib import Path

import pytest
from transformers import CONFIG_MAPPING
from transformers.models.auto.modeling_auto import MODEL_FOR_POSE_ESTIMATION_MAPPING

import hfpose  # noqa: F401  (registers the Auto classes)
from hfpose.models import get_method, method_of, pose_methods

SRC = Path(__file__).resolve().parents[1] / "src"

# Lowest first. A module may import its own layer and the layers below it (and the package root `hfpose`, whose
# import registers the Auto classes). The same table is drawn in docs/architecture.md.
LAYERS = (
    (
        "core",
        (
            "hfpose.keypoints",
            "hfpose.geometry",
            "hfpose.image_io",
            "hfpose.visualization",
            "hfpose.progress",
            "hfpose.file_modes",
        ),
    ),
    ("codecs", ("hfpose.codecs",)),
    ("models", ("hfpose.models",)),
    (
        "processing",
        ("hfpose.image_processing_topdown", "hfpose.image_processing_bottomup", "hfpose.data", "hfpose.evaluation"),
    ),
    ("inference", ("hfpose.onnx_export", "hfpose.inference", "hfpose.pipelines", "hfpose.onnx")),
    ("training", ("hfpose.training",)),
    ("applications", ("hfpose.video", "hfpose.app", "hfpose.demo")),
    ("hub", ("hfpose.hub",)),
    ("cli", ("hfpose.cli",)),
)
# Pairs that the layer order alone would allow but the design forbids.
FORBIDDEN = (
    ("hfpose.models", "hfpose.codecs"),  # models never call codecs (CONVENTIONS.md)
    ("hfpose.data", "hfpose.evaluation"),  # evaluation reads datasets, not the other way round
    ("hfpose.image_processing_topdown", "hfpose.data"),
    ("hfpose.image_processing_bottomup", "hfpose.data"),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in SRC.rglob("*.py")}


def _imports(module: str) -> set[str]:
    """Every hfpose module `module` imports, at module level or inside a function (`from x import name` counts
    `x.name` when that is a module)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in candidates if name in MODULES and name != module)
    return found


GRAPH = {module: _imports(module) for module in MODULES}


def _layer(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return index
    return None


def test_graph_sees_the_imports():
    # relative, absolute and function-level imports all count
    assert "hfpose.models.deeppose.convert_mmpose_deeppose" in GRAPH["hfpose.models.rle.convert_mmpose_rle"]
    assert "hfpose.models" in GRAPH["hfpose.training.loop"]
    assert "hfpose.models.conversion_utils" in GRAPH["hfpose.hub.convert_mmpose"]
    assert len(MODULES) > 80


def test_no_import_cycle_in_src():
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    assert cycles == []


def test_every_module_has_a_layer():
    assert [module for module in MODULES if module != "hfpose" and _layer(module) is None] == []


def test_imports_only_go_down_the_layers():
    upward = [
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if module != "hfpose" and target != "hfpose" and _layer(target) > _layer(module)
    ]
    assert upward == []


@pytest.mark.parametrize(("importer", "imported"), FORBIDDEN)
def test_forbidden_imports(importer, imported):
    offending = [
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if module == importer or module.startswith(importer + ".")
        for target in targets
        if target == imported or target.startswith(imported + ".")
    ]
    assert offending == []


def test_only_hub_training_cli_and_onnx_read_the_method_index():
    # The pipeline, inference, the image processors and the models travel as remote code (hfpose.hub.remote_code):
    # they learn what they need from the config (`pose_family`) or the processor (`bottom_up`), not from the index.
    readers = sorted(module for module, targets in GRAPH.items() if "hfpose.models" in targets)
    allowed = ("hfpose.hub", "hfpose.training", "hfpose.cli", "hfpose.onnx")
    assert [m for m in readers if m != "hfpose" and not m.startswith(allowed)] == []
    assert "hfpose.onnx" in readers and "hfpose.training.loop" in readers


def test_the_index_agrees_with_the_auto_mappings():
    methods = pose_methods()
    pose_model_types = {
        config_class.model_type
        for config_class in MODEL_FOR_POSE_ESTIMATION_MAPPING._extra_content
        if config_class.model_type.startswith("hfpose_")
    }
    assert pose_model_types == {method.model_type for method in methods.values()}
    for method in methods.values():
        assert CONFIG_MAPPING[method.model_type] is method.config_class
        assert MODEL_FOR_POSE_ESTIMATION_MAPPING[method.config_class] is method.model_class
        assert method.model_class.config_class is method.config_class
        assert method_of(method.model_type) is method and get_method(method.name) is method
        assert all(row.method == method.name for row in method.reference_results)
        module, _, attribute = method.codec.rpartition(".")
        codec_module = importlib.import_module(
            method.codec if module == "hfpose.codecs" and not attribute[0].isupper() else module
        )
        assert attribute[0].islower() or hasattr(codec_module, attribute), method.codec
    with pytest.raises(ValueError, match="unknown method 'hrnet'"):
        get_method("hrnet")


def test_every_method_folder_has_its_four_files():
    for method in pose_methods().values():
        folder = SRC / "hfpose" / "models" / method.recipe_folder
        package = folder.name
        for stem in ("configuration", "modeling", "convert_mmpose", "declaration"):
            assert (folder / f"{stem}_{package}.py").is_file(), f"{folder}/{stem}_{package}.py"
        assert method.config_class.__module__ == f"hfpose.models.{package}.configuration_{package}"


def _string_constants(path: Path) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_method_list_outside_the_declarations():
    # A model type string names one method: it may appear in that method's own folder only. A method name may
    # appear anywhere once (an example, a default), but two or more method names in one file outside models/ make a
    # list that would have to be kept in step with the declarations.
    methods = pose_methods().values()
    model_types = {method.model_type: method.recipe_folder for method in methods}
    names = {method.name for method in methods}
    offending = []
    for module, path in MODULES.items():
        if module.startswith("hfpose.models."):
            package = module.split(".")[2]
            offending += [
                f"{module}:{line} {value!r}"
                for line, value in _string_constants(path)
                if value in model_types and model_types[value] != package
            ]
            continue
        constants = _string_constants(path)
        offending += [f"{module}:{line} {value!r}" for line, value in constants if value in model_types]
        named = sorted({value for _, value in constants if value in names})
        if len(named) > 1:
            offending.append(f"{module} names the methods {named}")
    assert offending == []


# Markdown that only a card contains: a section heading, a table separator, a code fence.
_CARD_MARKDOWN = re.compile(r"^#{2,6} |\|---|```", re.MULTILINE)


def _docstring_nodes(tree: ast.AST) -> set[int]:
    nodes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, nodes) and node.body and isinstance(node.body[0], ast.Expr)
    }


def test_card_markdown_lives_in_the_templates():
    # Cards are one template system (hub/card_templates.py renders hub/templates/*.jinja): the hub modules gather
    # data, and none of their string literals (docstrings aside) spells a card's headings, tables or code blocks.
    offending = []
    for module, path in MODULES.items():
        if not module.startswith("hfpose.hub"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstring_nodes(tree)
        offending += [
            f"{module}:{node.lineno} {node.value[:60]!r}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and _CARD_MARKDOWN.search(node.value)
        ]
    assert offending == []
