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
* `config.json` gains `auto_map` (`AutoConfig`, `AutoModelForPoseEstimation`) and `custom_pipelines`
  (task `hfpose-keypoint-detection` → `pipeline_hfpose.KeypointDetectionPipeline`; see `REMOTE_PIPELINE_TASK`),
  `preprocessor_config.json` gains
  `auto_map.AutoImageProcessor`.

Then `AutoModelForPoseEstimation.from_pretrained(repo, trust_remote_code=True)`,
`AutoImageProcessor.from_pretrained(repo, trust_remote_code=True)` and `pipeline(model=repo,
trust_remote_code=True)` work with only transformers (and hfpose's third-party dependencies: torch, numpy, OpenCV,
scipy) installed. Reference: transformers `dynamic_module_utils` (`get_relative_imports`,
`get_class_from_dynamic_module`) and the "custom models" / "custom pipelines" guides.
"""

from __future__ import annotations

import ast
import json
import sys
from importlib import import_module
from pathlib import Path

__all__ = ["ENTRY_FILES", "REMOTE_PIPELINE_TASK", "module_closure", "flatten_module_source", "write_remote_code"]

# Not "keypoint-detection": transformers refuses `pipeline("keypoint-detection", model=repo)` without
# trust_remote_code when the repo declares a custom pipeline of that task name, which would break hfpose's own task.
# `pipeline(model=repo, trust_remote_code=True)` infers the repo's single custom task whatever its name.
REMOTE_PIPELINE_TASK = "hfpose-keypoint-detection"
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
                    raise NotImplementedError(f"{module} line {node.lineno}: `import {alias.name}` cannot be "
                                              "flattened for remote code; use a relative `from ... import`")
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
    header = (f"# Bundled by hfpose.hub.remote_code from {relative} (hfpose {hfpose.__version__}) for "
              "trust_remote_code loading; hfpose imports flattened to this folder.\n")
    return header + data.decode("utf-8")


def _class_of(model_type: str):
    import hfpose  # noqa: F401  (registers the Auto classes)
    from transformers import CONFIG_MAPPING, AutoModelForPoseEstimation

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
        The names of the `.py` files written (sorted).

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
        raise ValueError(f"preprocessor_config.json image_processor_type {processor_name!r} is not one of "
                         f"{sorted(_PROCESSOR_MODULES)}")

    backbone_type = (config.get("backbone_config") or {}).get("model_type")
    registration = _BACKBONE_REGISTRATION.get(backbone_type)
    roots = [config_class.__module__, model_class.__module__, _PROCESSOR_MODULES[processor_name], _PIPELINE[0]]
    if registration:
        roots.append(registration[0])
    files: dict[str, str] = {}
    for module in module_closure(roots):
        files[f"{_flat_name(module)}.py"] = flatten_module_source(module)

    head = '"""Generated by hfpose.hub.remote_code: entry point for trust_remote_code loading."""\n\n'
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
        head + f"from .{_flat_name(_PIPELINE[0])} import {_PIPELINE[1]}\n\n__all__ = [\"{_PIPELINE[1]}\"]\n"
    )
    for name, text in files.items():
        (model_dir / name).write_text(text, encoding="utf-8")

    config["auto_map"] = {
        "AutoConfig": f"configuration_hfpose.{config_class.__name__}",
        "AutoModelForPoseEstimation": f"modeling_hfpose.{model_class.__name__}",
    }
    config["custom_pipelines"] = {
        REMOTE_PIPELINE_TASK: {"impl": f"pipeline_hfpose.{_PIPELINE[1]}", "pt": ["AutoModelForPoseEstimation"],
                               "tf": [], "type": "image"}
    }
    (model_dir / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    processor_config["auto_map"] = {"AutoImageProcessor": f"image_processing_hfpose.{processor_name}"}
    (model_dir / "preprocessor_config.json").write_text(json.dumps(processor_config, indent=2, sort_keys=True) + "\n")
    return sorted(files)


if __name__ == "__main__":  # pragma: no cover
    print("\n".join(write_remote_code(sys.argv[1])))
