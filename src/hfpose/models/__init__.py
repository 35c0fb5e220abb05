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
    # --- bottom-up family ---


__all__ = ["register_models"]
