# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Self-contained `trust_remote_code` files for a saved hfpose model, so it loads where `import hfpose` fails.

`write_remote_code(model_dir)` writes into a directory made by `save_pretrained` (model + image processor):

* `configuration_hfpose.py`, `modeling_hfpose.py`, `image_processing_hfpose.py`, `pipeline_hfpose.py`: small entry
  modules that re-export the model's config class, model class, image-processor class and
  `KeypointDetectionPipeline` (and register hfpose's own backbones, MobileNetV2 / HRNet, with `AutoConfig` /
  `AutoBackbone` when the config uses one);
* `hfpose_<path>.py`: a copy of every hfpose module those classes need (found by walking their imports with `ast`),
  with each hfpose import rewritten to the flat relative form `from .hfpose_<path> import ...` that transformers'
  dynamic-module loader follows (it copies relative imports only, from one flat folder);
* `requirements.txt` and `hfpose_requirements.py`: the third-party packages those modules import (found by the same
  `ast` walk: module-level imports are required, imports inside functions optional, e.g. onnxruntime), and a check
  that every entry module runs first, so a missing package is an `ImportError` naming the pip package
  (``opencv-python-headless``, not ``cv2``) instead of a traceback from deep inside a copied module;
* `config.json` gains `auto_map` (`AutoConfig`, `AutoModelForPoseEstimation`) and `custom_pipelines`
  (task `keypoint-detection` → `pipeline_hfpose.KeypointDetectionPipeline`; see `REMOTE_PIPELINE_TASK`),
  `preprocessor_config.json` gains `auto_map.AutoImageProcessor`.

Then `AutoModelForPoseEstimation.from_pretrained(repo, trust_remote_code=True)`,
`AutoImageProcessor.from_pretrained(repo, trust_remote_code=True)`, `pipeline("keypoint-detection", model=repo,
trust_remote_code=True)` and `pipeline(model=repo, trust_remote_code=True)` work with only transformers and the
packages of `requirements.txt` installed.

How transformers resolves the task (`transformers.pipelines.pipeline`, 5.23): when the repo's config has
`custom_pipelines`, a task given by name that is one of its keys is served by the repo's class (and needs
`trust_remote_code=True`); with no task and exactly one key, that key is the task. Any other name goes to the
built-in registry, which has no "keypoint-detection": hence the key must be that name. With hfpose installed and no
`trust_remote_code`, the config class is hfpose's own, and
`hfpose.pipelines.installed_task.serve_installed_pipeline` makes such a config hide the custom task that the installed
hfpose already registers, so `pipeline("keypoint-detection", model=repo)` runs the installed code instead of asking
for `trust_remote_code`. Reference: transformers `dynamic_module_utils` (`get_relative_imports`, `check_imports`,
`get_class_from_dynamic_module`) and the "custom models" / "custom pipelines" guides.
"""

from __future__ import annotations

import ast
import json
import sys
from importlib import import_module
from pathlib import Path

__all__ = [
    "ENTRY_FILES",
    "REMOTE_PIPELINE_TASK",
    "flatten_module_source",
    "module_closure",
    "remote_requirements",
    "requirements_markdown",
    "write_remote_code",
]

# The task name users type; transformers serves a name listed in `custom_pipelines` from the repo's code (module
# docstring), and `pipelines.installed_task.serve_installed_pipeline` keeps hfpose's own registration in charge
# where hfpose is installed.
REMOTE_PIPELINE_TASK = "keypoint-detection"
REQUIREMENTS_MODULE = "hfpose_requirements"
# import name -> pip distribution, for the third-party packages hfpose modules import
_DISTRIBUTIONS = {"cv2": "opencv-python-headless", "PIL": "Pillow", "yaml": "pyyaml", "sklearn": "scikit-learn"}
ENTRY_FILES = ("configuration_hfpose.py", "modeling_hfpose.py", "image_processing_hfpose.py", "pipeline_hfpose.py")
_PROCESSOR_MODULES = {
    "TopDownPoseImageProcessor": "hfpose.image_processing_topdown",
    "BottomUpPoseImageProcessor": "hfpose.image_processing_bottomup",
}
_PIPELINE = ("hfpose.pipelines.keypoint_detection", "KeypointDetectionPipeline")
_BACKBONE_REGISTRATION = {
    "hfpose_mobilenet_v2": ("hfpose.models.mobilenet_v2", "PoseMobileNetV2Config", "PoseMobileNetV2Backbone"),
    "hfpose_hrnet": ("hfpose.models.hrnet", "HRNetConfig", "HRNetBackbone"),
}


def _source_path(module: str) -> tuple[Path, bool]:
    """(file, is_package) of an hfpose module, found from the installed package."""
    package_root = Path(import_module("hfpose").__file__).resolve().parent
    parts = module.split(".")[1:]
    candidate = package_root.joinpath(*parts)
    if (candidate / "__init__.py").is_file():
        return candidate / "__init__.py", True
    if candidate.with_suffix(".py").is_file():
        return candidate.with_suffix(".py"), False
    raise ImportError(f"hfpose module {module!r} not found under {package_root}")


def _flat_name(module: str) -> str:
    """`hfpose.models.rle.modeling_rle` → `hfpose_models_rle_modeling_rle` (one flat file name, no dots)."""
    return module.replace(".", "_")


def _hfpose_imports(module: str, tree: ast.Module, is_package: bool) -> list[tuple[ast.ImportFrom | ast.Import, str]]:
    """Every import node of `tree` that refers to an hfpose module, with the absolute module it names."""
    package = module if is_package else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level - 1 >= len(base):
                    raise ImportError(f"{module}: relative import beyond the hfpose package (line {node.lineno})")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and (node.module == "hfpose" or node.module.startswith("hfpose.")):
                target = node.module
            else:
                continue
            if node.module is None or target == "hfpose":
                raise NotImplementedError(
                    f"{module} line {node.lineno}: `from {'.' * node.level} import ...` / `from hfpose import ...` "
                    "cannot be flattened for remote code; import from the defining module instead"
                )
            found.append((node, target))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "hfpose" or alias.name.startswith("hfpose."):
                    raise NotImplementedError(
                        f"{module} line {node.lineno}: `import {alias.name}` cannot be "
                        "flattened for remote code; use a relative `from ... import`"
                    )
    return found


def module_closure(modules: list[str]) -> list[str]:
    """The hfpose modules `modules` import, directly or not (sorted, including `modules`).

    Raises:
        ImportError: if an imported hfpose module has no source file.
        NotImplementedError: for an import form the flattening cannot express (`import hfpose.x`, `from . import x`).
    """
    seen: set[str] = set()
    todo = list(modules)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        path, is_package = _source_path(module)
        seen.add(module)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        todo.extend(target for _, target in _hfpose_imports(module, tree, is_package))
    return sorted(seen)


def flatten_module_source(module: str) -> str:
    """The source of hfpose `module` with every hfpose import rewritten to `from .hfpose_<path> import ...`.

    Only the import statements change (byte ranges from `ast` positions), so line numbers of everything else stay.
    """
    import hfpose

    path, is_package = _source_path(module)
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.encode("utf-8").splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    data = source.encode("utf-8")
    edits = []
    for node, target in _hfpose_imports(module, tree, is_package):
        names = ", ".join(alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in node.names)
        replacement = f"from .{_flat_name(target)} import {names}".encode()
        start = offsets[node.lineno - 1] + node.col_offset
        end = offsets[node.end_lineno - 1] + node.end_col_offset
        edits.append((start, end, replacement))
    for start, end, replacement in sorted(edits, reverse=True):
        data = data[:start] + replacement + data[end:]
    relative = path.relative_to(Path(hfpose.__file__).resolve().parent.parent).as_posix()
    header = (
        f"# Bundled by hfpose.hub.remote_code from {relative} (hfpose {hfpose.__version__}) for "
        "trust_remote_code loading; hfpose imports flattened to this folder.\n"
    )
    return header + data.decode("utf-8")


def _third_party_imports(module: str) -> tuple[set[str], set[str]]:
    """(top-level names imported at module level, those imported only inside functions/try blocks) of a module,
    leaving out the standard library, hfpose itself and relative imports."""
    path, _ = _source_path(module)
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def names(node) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name.split(".")[0] for alias in node.names]
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            return [node.module.split(".")[0]]
        return []

    stdlib = set(getattr(sys, "stdlib_module_names", ())) | {"__future__"}
    top = {name for node in tree.body for name in names(node)}
    every = {name for node in ast.walk(tree) for name in names(node)}
    keep = {name for name in every if name not in stdlib and name != "hfpose"}
    return top & keep, (every - top) & keep


def remote_requirements(modules: list[str]) -> tuple[list[str], list[str]]:
    """(required, optional) pip distribution names of the third-party packages `modules` import: required when some
    module imports it at module level, optional when only inside a function (onnxruntime). Version ranges come from
    hfpose's own requirements where it declares one (``transformers>=5,<6``)."""
    required, optional = set(), set()
    for module in modules:
        top, nested = _third_party_imports(module)
        required |= top
        optional |= nested
    optional -= required
    specifiers = {}
    try:
        from importlib.metadata import requires

        for line in requires("hfpose") or []:
            if "extra ==" in line:
                continue
            requirement = line.split(";")[0].strip()
            bare = requirement.split("[")[0]
            for sign in "<>=!~ ":
                bare = bare.split(sign)[0]
            specifiers[bare.lower()] = requirement.replace(bare, "", 1).strip()
    except Exception:  # noqa: BLE001, S110 (not installed as a distribution: no version ranges)
        pass

    def spell(names):
        return sorted(
            _DISTRIBUTIONS.get(name, name) + specifiers.get(_DISTRIBUTIONS.get(name, name).lower(), "")
            for name in names
        )

    return spell(required), spell(optional)


def _requirements_files(modules: list[str]) -> dict[str, str]:
    """`requirements.txt` and the `hfpose_requirements.py` check for the bundled `modules`."""
    import hfpose

    required, optional = remote_requirements(modules)
    text = (
        f"# Packages the trust_remote_code files of this repository import (generated by hfpose "
        f"{hfpose.__version__}).\n# pip install -r requirements.txt\n" + "".join(f"{r}\n" for r in required)
    )
    text += "".join(f"# optional: {o}\n" for o in optional)
    imports = {}
    for module in modules:
        top, _ = _third_party_imports(module)
        for name in top:
            imports[name] = _DISTRIBUTIONS.get(name, name)
    check = (
        '"""Generated by hfpose.hub.remote_code: the packages this repository\'s code imports, checked before it '
        'runs."""\n\nimport importlib.util\n\n'
        f"REQUIRED = {dict(sorted(imports.items()))!r}  # import name -> pip package\n\n\n"
        "def missing_packages() -> list:\n"
        "    missing = []\n"
        "    for module, package in REQUIRED.items():\n"
        "        try:\n"
        "            found = importlib.util.find_spec(module) is not None\n"
        "        except (ImportError, ValueError):\n"
        "            found = False\n"
        "        if not found:\n"
        "            missing.append(package)\n"
        "    return missing\n\n\n"
        "_MISSING = missing_packages()\n"
        "if _MISSING:\n"
        "    raise ImportError(f\"this model's code needs {', '.join(_MISSING)}: pip install {' '.join(_MISSING)} \"\n"
        '                      "(all its requirements: pip install -r requirements.txt from the model repository)")\n'
    )
    return {"requirements.txt": text, f"{REQUIREMENTS_MODULE}.py": check}


def requirements_markdown(repo_dir: str | Path, repo_id: str) -> str:
    """The model card's section on what the remote code needs, from the repo's `requirements.txt`."""
    lines = (Path(repo_dir) / "requirements.txt").read_text().splitlines()
    required = [line for line in lines if line and not line.startswith("#")]
    optional = [line.split(":", 1)[1].strip() for line in lines if line.startswith("# optional:")]
    from .card_templates import render_template

    return render_template("_remote_code_requirements.jinja", required=required, optional=optional, repo_id=repo_id)


def _class_of(model_type: str):
    from transformers import CONFIG_MAPPING, AutoModelForPoseEstimation

    import hfpose  # noqa: F401  (registers the Auto classes)

    if not str(model_type).startswith("hfpose_") or model_type not in CONFIG_MAPPING:
        raise ValueError(f"config.json model_type {model_type!r} is not registered by hfpose")
    config_class = CONFIG_MAPPING[model_type]
    try:
        model_class = AutoModelForPoseEstimation._model_mapping[config_class]
    except KeyError:
        raise ValueError(f"config.json model_type {model_type!r} has no AutoModelForPoseEstimation class") from None
    return config_class, model_class


def write_remote_code(model_dir: str | Path) -> list[str]:
    """Write the remote-code files into a saved model directory and add `auto_map` / `custom_pipelines`.

    Args:
        model_dir: a directory written by `save_pretrained` of an hfpose model and its image processor
            (`config.json` and `preprocessor_config.json`).

    Returns:
        The names of the `.py` files written (sorted); `requirements.txt` is written too.

    Raises:
        FileNotFoundError: if either json file is missing.
        ValueError: if the model type or image-processor type is not hfpose's.
    """
    model_dir = Path(model_dir)
    for name in ("config.json", "preprocessor_config.json"):
        if not (model_dir / name).is_file():
            raise FileNotFoundError(f"{model_dir} lacks {name}; save the model and its image processor first")
    config = json.loads((model_dir / "config.json").read_text())
    processor_config = json.loads((model_dir / "preprocessor_config.json").read_text())
    config_class, model_class = _class_of(config.get("model_type"))
    processor_name = processor_config.get("image_processor_type")
    if processor_name not in _PROCESSOR_MODULES:
        raise ValueError(
            f"preprocessor_config.json image_processor_type {processor_name!r} is not one of "
            f"{sorted(_PROCESSOR_MODULES)}"
        )

    backbone_type = (config.get("backbone_config") or {}).get("model_type")
    registration = _BACKBONE_REGISTRATION.get(backbone_type)
    roots = [config_class.__module__, model_class.__module__, _PROCESSOR_MODULES[processor_name], _PIPELINE[0]]
    if registration:
        roots.append(registration[0])
    files: dict[str, str] = {}
    closure = module_closure(roots)
    for module in closure:
        files[f"{_flat_name(module)}.py"] = flatten_module_source(module)
    extra = _requirements_files(closure)
    files[f"{REQUIREMENTS_MODULE}.py"] = extra[f"{REQUIREMENTS_MODULE}.py"]

    head = (
        '"""Generated by hfpose.hub.remote_code: entry point for trust_remote_code loading."""\n\n'
        f"from .{REQUIREMENTS_MODULE} import REQUIRED  # noqa: F401  (first: names any missing pip package)\n"
    )
    configuration = head + f"from .{_flat_name(config_class.__module__)} import {config_class.__name__}\n"
    if registration:
        module, backbone_config, backbone = registration
        configuration += (
            f"from .{_flat_name(module)} import {backbone_config}, {backbone}\n\n"
            "from transformers import AutoBackbone, AutoConfig\n\n"
            f"AutoConfig.register({backbone_config}.model_type, {backbone_config}, exist_ok=True)\n"
            f"AutoBackbone.register({backbone_config}, {backbone}, exist_ok=True)\n"
        )
    configuration += f'\n__all__ = ["{config_class.__name__}"]\n'
    files["configuration_hfpose.py"] = configuration
    files["modeling_hfpose.py"] = (
        head + f"from .configuration_hfpose import {config_class.__name__}  # noqa: F401  (registers backbones)\n"
        f"from .{_flat_name(model_class.__module__)} import {model_class.__name__}\n\n"
        f'__all__ = ["{model_class.__name__}"]\n'
    )
    files["image_processing_hfpose.py"] = (
        head + f"from .{_flat_name(_PROCESSOR_MODULES[processor_name])} import {processor_name}\n\n"
        f'__all__ = ["{processor_name}"]\n'
    )
    files["pipeline_hfpose.py"] = (
        head + f'from .{_flat_name(_PIPELINE[0])} import {_PIPELINE[1]}\n\n__all__ = ["{_PIPELINE[1]}"]\n'
    )
    for name, text in files.items():
        (model_dir / name).write_text(text, encoding="utf-8")
    (model_dir / "requirements.txt").write_text(extra["requirements.txt"], encoding="utf-8")

    config["auto_map"] = {
        "AutoConfig": f"configuration_hfpose.{config_class.__name__}",
        "AutoModelForPoseEstimation": f"modeling_hfpose.{model_class.__name__}",
    }
    config["custom_pipelines"] = {
        REMOTE_PIPELINE_TASK: {
            "impl": f"pipeline_hfpose.{_PIPELINE[1]}",
            "pt": ["AutoModelForPoseEstimation"],
            "tf": [],
            "type": "image",
        }
    }
    (model_dir / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    processor_config["auto_map"] = {"AutoImageProcessor": f"image_processing_hfpose.{processor_name}"}
    (model_dir / "preprocessor_config.json").write_text(json.dumps(processor_config, indent=2, sort_keys=True) + "\n")
    return sorted(files)


if __name__ == "__main__":  # pragma: no cover
    print("\n".join(write_remote_code(sys.argv[1])))
