"""hfpose models and datasets train with `transformers.Trainer` and `PoseDataCollator`."""

import numpy as np
import pytest
import torch
from transformers import Trainer, TrainingArguments

from hfpose.data import TopDownTrainTransform, load_coco_keypoints
from hfpose.data.trainer import PoseDataCollator
from hfpose.models.backbones import resnet_backbone_config
from hfpose.models.rle import RLEConfig, RLEForPoseEstimation


def test_trainer_trains_a_tiny_rle_model_on_coco_mini(coco_mini, tmp_path):
    torch.manual_seed(0)
    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    model = RLEForPoseEstimation(RLEConfig(backbone_config=backbone, input_size=[48, 64]))
    before = {name: value.detach().clone() for name, value in model.named_parameters()}
    dataset = load_coco_keypoints(coco_mini, split="train2017")
    train = dataset.with_transform(TopDownTrainTransform(input_size=(48, 64), seed=0))
    args = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=4,
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        remove_unused_columns=False,
        use_cpu=True,
        dataloader_num_workers=0,
        seed=0,
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, train_dataset=train, data_collator=PoseDataCollator())
    result = trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert trainer.state.global_step == 4 and len(losses) == 4
    assert np.all(np.isfinite(losses)) and np.isfinite(result.training_loss)
    changed = [name for name, value in model.named_parameters() if not torch.equal(value.detach(), before[name])]
    assert "head.fc.weight" in changed and any(name.startswith("backbone.") for name in changed)
    assert any(name.startswith("flow.") for name in changed)  # the RLE flow trains too


def test_collator_keeps_only_model_inputs():
    rng = np.random.default_rng(0)
    examples = [
        {
            "pixel_values": rng.normal(size=(3, 8, 6)).astype(np.float32),
            "labels": rng.uniform(size=(4, 2)),
            "label_weights": np.ones(4, np.float32),
            "center": np.zeros(2),
            "image_id": 7,
            "bbox": [1, 2, 3, 4],
        }
        for _ in range(3)
    ]
    batch = PoseDataCollator()(examples)
    assert set(batch) == {"pixel_values", "labels", "label_weights"}
    assert batch["pixel_values"].shape == (3, 3, 8, 6) and batch["labels"].dtype == torch.float32
    np.testing.assert_array_equal(batch["labels"].numpy(), np.stack([e["labels"] for e in examples]).astype(np.float32))
    with pytest.raises(ValueError, match="example 1 carries inputs"):
        PoseDataCollator()([examples[0], {k: v for k, v in examples[1].items() if k != "labels"}])
    with pytest.raises(ValueError, match="no pixel_values"):
        PoseDataCollator()([{"labels": np.zeros((4, 2))}])
    with pytest.raises(TypeError, match="non-empty list"):
        PoseDataCollator()([])
