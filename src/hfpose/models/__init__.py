"""Model families. Each sub-package holds one configuration/model pair (see CONVENTIONS.md).

`register_models()` registers every family with the transformers Auto classes; it is called on `import hfpose`.
Add one `_register(...)` line per model family below.
"""

from transformers import AutoConfig, AutoModelForPoseEstimation


def _register(config_class, model_class=None) -> None:
    AutoConfig.register(config_class.model_type, config_class, exist_ok=True)
    if model_class is not None:
        AutoModelForPoseEstimation.register(config_class, model_class, exist_ok=True)


def register_models() -> None:
    """Register every hfpose config/model with `AutoConfig` and `AutoModelForPoseEstimation` (idempotent)."""
    # --- top-down regression family ---
    from .mobilenet_v2 import register_mobilenet_v2; register_mobilenet_v2()  # noqa: E702
    from .deeppose import DeepPoseConfig, DeepPoseForPoseEstimation; _register(DeepPoseConfig, DeepPoseForPoseEstimation)  # noqa: E702,E501
    from .rle import RLEConfig, RLEForPoseEstimation; _register(RLEConfig, RLEForPoseEstimation)  # noqa: E702
    from .ipr import IPRConfig, IPRForPoseEstimation; _register(IPRConfig, IPRForPoseEstimation)  # noqa: E702
    from .dsnt import DSNTConfig, DSNTForPoseEstimation; _register(DSNTConfig, DSNTForPoseEstimation)  # noqa: E702
    from .debias_ipr import DebiasIPRConfig, DebiasIPRForPoseEstimation; _register(DebiasIPRConfig, DebiasIPRForPoseEstimation)  # noqa: E702,E501
    # --- bottom-up family ---
    from .hrnet import HRNetBackbone, HRNetConfig; _register(HRNetConfig)  # noqa: E702
    from transformers import AutoBackbone; AutoBackbone.register(HRNetConfig, HRNetBackbone, exist_ok=True)  # noqa: E702
    from .associative_embedding import AssociativeEmbeddingConfig, AssociativeEmbeddingForPoseEstimation; _register(AssociativeEmbeddingConfig, AssociativeEmbeddingForPoseEstimation)  # noqa: E702,E501
    from .higherhrnet import HigherHRNetConfig, HigherHRNetForPoseEstimation; _register(HigherHRNetConfig, HigherHRNetForPoseEstimation)  # noqa: E702,E501


__all__ = ["register_models"]
