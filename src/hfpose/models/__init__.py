"""Model families and the one index of pose-estimation methods.

Each method folder `models/<method>/` holds `configuration_<method>.py`, `modeling_<method>.py`,
`convert_mmpose_<method>.py` and `declaration_<method>.py`, whose `METHOD` (a `PoseMethod`) says what the rest of the
library needs to know. `pose_methods()` collects the declarations of every folder that has one: the training loop, the
MMPose converter, the model cards, the ONNX export, the CLI and the benchmark read it; nothing else lists methods.
`register_models()` registers every declared config/model pair (and the two hfpose backbones) with the transformers
Auto classes; it is called on `import hfpose`.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from transformers import AutoBackbone, AutoConfig, AutoModelForPoseEstimation

from .pose_method import FAMILIES, PoseMethod, ReferenceResult

__all__ = ["FAMILIES", "PoseMethod", "ReferenceResult", "get_method", "method_of", "pose_methods", "register_models"]


@functools.cache
def _declarations() -> tuple[PoseMethod, ...]:
    found = []
    for module in pkgutil.iter_modules(__path__):
        if not module.ispkg:
            continue
        name = f"{__name__}.{module.name}.declaration_{module.name}"
        if importlib.util.find_spec(name) is None:
            continue  # a backbone folder (hrnet, mobilenet_v2): no method of its own
        found.append(importlib.import_module(name).METHOD)
    return tuple(sorted(found, key=lambda method: (FAMILIES.index(method.family), method.recipe_folder)))


def pose_methods() -> dict[str, PoseMethod]:
    """`{name: PoseMethod}` of every declared method, regression first, then integral, then bottom-up."""
    return {method.name: method for method in _declarations()}


def get_method(name: str) -> PoseMethod:
    """The declaration of method `name` (`"rle"`, `"ae_hrnet"`, ...).

    Raises:
        ValueError: naming the unknown method and listing the known ones.
    """
    methods = pose_methods()
    if name not in methods:
        raise ValueError(f"unknown method {name!r}; expected one of {list(methods)}")
    return methods[name]


def method_of(config_or_model_type) -> PoseMethod:
    """The declaration of the method of a config (instance or class), a config dict or a `model_type` string.

    Raises:
        ValueError: if it is not an hfpose method's model type (names it and lists the known ones).
    """
    if isinstance(config_or_model_type, str):
        model_type = config_or_model_type
    elif isinstance(config_or_model_type, dict):
        model_type = config_or_model_type.get("model_type")
    else:
        model_type = getattr(config_or_model_type, "model_type", None)
    for method in _declarations():
        if method.model_type == model_type:
            return method
    raise ValueError(
        f"model_type {model_type!r} is not an hfpose pose model; expected one of "
        f"{sorted(method.model_type for method in _declarations())}"
    )


def register_models() -> None:
    """Register every declared config/model with `AutoConfig` and `AutoModelForPoseEstimation`, and hfpose's
    backbones (MMPose-layout MobileNetV2, HRNet) with `AutoConfig` and `AutoBackbone` (idempotent)."""
    from .hrnet import HRNetBackbone, HRNetConfig
    from .mobilenet_v2 import PoseMobileNetV2Backbone, PoseMobileNetV2Config

    for config_class, backbone_class in (
        (PoseMobileNetV2Config, PoseMobileNetV2Backbone),
        (HRNetConfig, HRNetBackbone),
    ):
        AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
        AutoBackbone.register(config_class, backbone_class, exist_ok=True)
    for method in _declarations():
        AutoConfig.register(method.model_type, method.config_class, exist_ok=True)
        AutoModelForPoseEstimation.register(method.config_class, method.model_class, exist_ok=True)
