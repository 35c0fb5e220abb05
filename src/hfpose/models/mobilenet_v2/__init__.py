"""MMPose-layout MobileNetV2 backbone (`hfpose_mobilenet_v2`), registered with `AutoConfig` / `AutoBackbone`."""

from .configuration_mobilenet_v2 import MOBILENET_V2_ARCH_SETTINGS, PoseMobileNetV2Config, make_divisible
from .modeling_mobilenet_v2 import PoseMobileNetV2Backbone, PoseMobileNetV2PreTrainedModel

__all__ = [
    "MOBILENET_V2_ARCH_SETTINGS",
    "PoseMobileNetV2Config",
    "PoseMobileNetV2Backbone",
    "PoseMobileNetV2PreTrainedModel",
    "make_divisible",
]


def register_mobilenet_v2() -> None:
    """Register `hfpose_mobilenet_v2` with `AutoConfig` and `AutoBackbone` (idempotent)."""
    from transformers import AutoBackbone, AutoConfig

    AutoConfig.register(PoseMobileNetV2Config.model_type, PoseMobileNetV2Config, exist_ok=True)
    AutoBackbone.register(PoseMobileNetV2Config, PoseMobileNetV2Backbone, exist_ok=True)


__all__ += ["register_mobilenet_v2"]
