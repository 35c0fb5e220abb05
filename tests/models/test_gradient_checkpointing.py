"""Gradient checkpointing of the ResNet, MobileNetV2 and HRNet backbones: same gradients, less activation memory."""

import copy
import pickle

import pytest
import torch

import hfpose  # noqa: F401
from hfpose.models.associative_embedding import AssociativeEmbeddingConfig, AssociativeEmbeddingForPoseEstimation
from hfpose.models.backbones import resnet_backbone_config
from hfpose.models.mobilenet_v2 import PoseMobileNetV2Config
from hfpose.models.rle import RLEConfig, RLEForPoseEstimation

TINY_HRNET = {
    "stem_channels": 8,
    "stage1_channels": 8,
    "stage1_num_blocks": 1,
    "hidden_sizes": [4, 8, 8, 8],
    "num_modules": [1, 1, 1],
    "num_blocks": [1, 1, 1],
}


def _resnet():
    config = resnet_backbone_config(
        50, depths=[2, 2, 2, 2], hidden_sizes=[16, 32, 32, 64], embedding_size=16, layer_type="basic"
    )
    return RLEForPoseEstimation(RLEConfig(backbone_config=config, input_size=[96, 128])), (2, 3, 128, 96)


def _mobilenet():
    config = PoseMobileNetV2Config(widen_factor=0.25, last_channels=40)
    return RLEForPoseEstimation(RLEConfig(backbone_config=config, input_size=[96, 128])), (2, 3, 128, 96)


def _hrnet():
    from hfpose.models.hrnet import HRNetConfig

    config = AssociativeEmbeddingConfig(backbone_config=HRNetConfig(**TINY_HRNET), input_size=[128, 128])
    return AssociativeEmbeddingForPoseEstimation(config), (2, 3, 128, 128)


MODELS = {"resnet": _resnet, "mobilenet_v2": _mobilenet, "hrnet": _hrnet}


def _objective(outputs) -> torch.Tensor:
    """A scalar touching every float output (heatmaps, tags, keypoints, sigmas...)."""
    return sum(
        (value.float() ** 2).mean()
        for value in outputs.values()
        if isinstance(value, torch.Tensor) and value.is_floating_point()
    )


def _gradients_and_saved_bytes(model, pixel_values):
    """Parameter gradients, and the bytes autograd keeps from the forward pass for the backward pass."""
    saved = []

    def pack(tensor):
        saved.append(tensor.numel() * tensor.element_size())
        return tensor

    model.zero_grad(set_to_none=True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss = _objective(model(pixel_values))
    loss.backward()
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}, sum(saved)


@pytest.mark.parametrize("name", list(MODELS))
def test_checkpointing_gives_the_same_gradients_for_less_memory(name):
    torch.manual_seed(0)
    model, shape = MODELS[name]()
    assert model.supports_gradient_checkpointing
    model.train()
    pixel_values = torch.randn(shape)
    plain, plain_bytes = _gradients_and_saved_bytes(model, pixel_values)
    model.gradient_checkpointing_enable()
    assert model.is_gradient_checkpointing
    checkpointed, checkpointed_bytes = _gradients_and_saved_bytes(model, pixel_values)
    assert set(plain) == set(checkpointed)
    assert {n for n, _ in model.backbone.named_parameters()} <= {n[len("backbone.") :] for n in plain}
    for key in plain:
        torch.testing.assert_close(checkpointed[key], plain[key], rtol=1e-5, atol=1e-6, msg=key)
    # the activations inside every checkpointed stage are not kept: at least a third less (measured: see report)
    print(
        f"{name}: saved activations {plain_bytes / 2**20:.2f} MiB plain, "
        f"{checkpointed_bytes / 2**20:.2f} MiB checkpointed"
    )
    assert checkpointed_bytes < 0.67 * plain_bytes, (plain_bytes, checkpointed_bytes)
    model.gradient_checkpointing_disable()
    again, again_bytes = _gradients_and_saved_bytes(model, pixel_values)
    assert again_bytes == plain_bytes


def test_checkpointable_models_keep_their_keys_and_copy_and_pickle(tmp_path):
    model, shape = _resnet()
    reference = RLEForPoseEstimation(model.config)
    assert list(model.state_dict()) == list(reference.state_dict())
    model.gradient_checkpointing_enable()
    clone = copy.deepcopy(model)
    assert clone.backbone.encoder.stages[0].gradient_checkpointing
    restored = pickle.loads(pickle.dumps(model))
    model.eval(), restored.eval()
    pixel_values = torch.randn(shape)
    with torch.no_grad():
        torch.testing.assert_close(restored(pixel_values).keypoints, model(pixel_values).keypoints)
    model.save_pretrained(tmp_path)
    loaded = RLEForPoseEstimation.from_pretrained(tmp_path)
    assert not loaded.is_gradient_checkpointing


def test_hrnet_models_refuse_reentrant_checkpointing():
    """Reentrant checkpointing would drop the gradients of HRNet's branch lists: refused in one line, naming the fix;
    the default (non-reentrant) enables, and every unit is one of transformers' `GradientCheckpointingLayer`s."""
    from transformers.modeling_layers import GradientCheckpointingLayer

    model = _hrnet()[0]
    with pytest.raises(
        ValueError, match="use_reentrant=True cannot carry gradients .* leave gradient_checkpointing_kwargs"
    ):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": True})
    assert not model.is_activation_checkpointing
    model.activation_checkpointing_enable()
    units = [m for m in model.modules() if isinstance(m, GradientCheckpointingLayer)]
    assert len(units) > 1 and all(unit.gradient_checkpointing for unit in units)
