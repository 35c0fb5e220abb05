# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""A data collator for `transformers.Trainer`, the other training route next to hfpose's accelerate loop.

Example (a top-down model on COCO):

```python
from transformers import Trainer, TrainingArguments

from hfpose.data import TopDownTrainTransform, load_coco_keypoints
from hfpose.data.trainer import PoseDataCollator

train = load_coco_keypoints("data/coco", split="train2017").with_transform(TopDownTrainTransform((192, 256)))
args = TrainingArguments("outputs/trainer", remove_unused_columns=False, per_device_train_batch_size=64)
Trainer(model=model, args=args, train_dataset=train, data_collator=PoseDataCollator()).train()
```

`remove_unused_columns=False` is required: the Trainer would otherwise drop the raw columns (`image_path`,
`keypoints`, the box) that the on-the-fly transform reads, because they are not arguments of `model.forward`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .collate import default_collate

__all__ = ["MODEL_INPUT_NAMES", "PoseDataCollator"]

MODEL_INPUT_NAMES = ("pixel_values", "labels", "label_weights", "target_heatmaps")


class PoseDataCollator:
    """Stack transformed examples into the keyword arguments of an hfpose model's `forward`.

    Keeps only `model_input_names` (default `pixel_values`, `labels`, `label_weights`, `target_heatmaps`; the ones
    an example lacks are skipped), so bookkeeping fields of the transform (`center`, `scale`, `image_id`, `bbox`, …)
    do not reach `forward`. Arrays become `torch.Tensor` (float64 → float32) through `hfpose.data.default_collate`.

    Args:
        model_input_names: field names to keep.

    Returns (`__call__`):
        `dict[str, torch.Tensor]`: `pixel_values` `(B, 3, H, W)`, `labels` `(B, K, 2)` (normalized input
        coordinates), `label_weights` `(B, K)`, and `target_heatmaps` `(B, K, Hh, Wh)` for the integral methods.

    Raises:
        ValueError: if an example lacks `pixel_values`, or examples differ in which inputs they carry (names them).
        TypeError: if `features` is not a non-empty sequence of dicts.
    """

    def __init__(self, model_input_names: Sequence[str] = MODEL_INPUT_NAMES):
        self.model_input_names = tuple(model_input_names)

    def __call__(self, features: Sequence[Mapping]) -> dict:
        if not isinstance(features, Sequence) or not features or not all(isinstance(f, Mapping) for f in features):
            raise TypeError("PoseDataCollator expects a non-empty list of example dicts")
        kept = [name for name in self.model_input_names if name in features[0]]
        if "pixel_values" not in kept:
            raise ValueError(
                f"example 0 has no pixel_values (fields: {sorted(features[0])}); apply the hfpose "
                "transform (dataset.with_transform(...)) first"
            )
        for index, feature in enumerate(features):
            present = [name for name in self.model_input_names if name in feature]
            if present != kept:
                raise ValueError(f"example {index} carries inputs {present} but example 0 carries {kept}")
        return default_collate([{name: feature[name] for name in kept} for feature in features])
