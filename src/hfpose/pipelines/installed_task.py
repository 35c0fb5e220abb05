"""The installed hfpose serves the ``keypoint-detection`` task of the remote-code repos it writes.

A repo written by `hfpose.hub.remote_code.write_remote_code` names its pipeline under ``custom_pipelines`` in
``config.json``, so that ``pipeline("keypoint-detection", model=repo, trust_remote_code=True)`` works where hfpose is
not installed; where it is, the installed implementation is used without ``trust_remote_code``.
"""

from __future__ import annotations

__all__ = ["serve_installed_pipeline"]


def serve_installed_pipeline(config_classes=None) -> None:
    """Let the installed hfpose serve the custom pipeline tasks of remote-code repos it registers itself.

    A repo written by `write_remote_code` lists ``keypoint-detection`` in ``config.json``'s ``custom_pipelines``; when
    hfpose is installed and imported, its own config class reads that file (``trust_remote_code`` not set), and
    transformers would then refuse ``pipeline("keypoint-detection", model=repo)`` without ``trust_remote_code``. Each
    class given here gets a ``custom_pipelines`` property that leaves out the tasks whose registered implementation
    in `transformers.pipelines.PIPELINE_REGISTRY` is hfpose's own pipeline; the stored value (``__dict__``) is
    untouched, so ``save_pretrained`` writes it back unchanged. Idempotent. Default: every config class registered
    with `AutoConfig` under an ``hfpose_`` model type.
    """
    if config_classes is None:
        from transformers import CONFIG_MAPPING

        names = [key for key in CONFIG_MAPPING.keys() if str(key).startswith("hfpose_")]  # noqa: SIM118 (lazy mapping)
        config_classes = [CONFIG_MAPPING[name] for name in names]
    for config_class in config_classes:
        if isinstance(config_class.__dict__.get("custom_pipelines"), property):
            continue
        config_class.custom_pipelines = property(_visible_custom_pipelines, _store_custom_pipelines)


def _visible_custom_pipelines(config) -> dict:
    stored = config.__dict__.get("custom_pipelines")
    if stored is None:
        raise AttributeError("custom_pipelines")
    from transformers.pipelines import PIPELINE_REGISTRY

    def served_here(task: str) -> bool:
        implementation = PIPELINE_REGISTRY.supported_tasks.get(task, {}).get("impl")
        return getattr(implementation, "__module__", "").startswith("hfpose.")

    return {task: spec for task, spec in stored.items() if not served_here(task)}


def _store_custom_pipelines(config, value) -> None:
    config.__dict__["custom_pipelines"] = value
