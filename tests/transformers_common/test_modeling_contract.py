"""transformers' `ModelTesterMixin` and `ConfigTester` on every hfpose model class, `BackboneTesterMixin` on its two
backbones.

Tiny configs (ResNet depths (1, 1, 1, 1) or a 4-8-16-32 HRNet, 64x48 or 64x64 input, 4 or 17 keypoints). Each test
the mixins run and hfpose opts out of is listed in `OPT_OUTS` (all models), a class's `opt_outs`, or
`BACKBONE_OPT_OUTS`, with its reason; everything else runs (see the conftest
for how the mixins are fetched).
"""

from __future__ import annotations

import copy
import tempfile
import unittest

import torch
from transformers_tests.test_backbone_common import BackboneTesterMixin
from transformers_tests.test_configuration_common import ConfigTester
from transformers_tests.test_modeling_common import ModelTesterMixin, floats_tensor

import hfpose  # noqa: F401  (registers the Auto classes)
from hfpose.models.associative_embedding import AssociativeEmbeddingConfig, AssociativeEmbeddingForPoseEstimation
from hfpose.models.backbones import resnet_backbone_config
from hfpose.models.debias_ipr import DebiasIPRConfig, DebiasIPRForPoseEstimation
from hfpose.models.deeppose import DeepPoseConfig, DeepPoseForPoseEstimation
from hfpose.models.dsnt import DSNTConfig, DSNTForPoseEstimation
from hfpose.models.higherhrnet import HigherHRNetConfig, HigherHRNetForPoseEstimation
from hfpose.models.hrnet import HRNetBackbone, HRNetConfig
from hfpose.models.ipr import IPRConfig, IPRForPoseEstimation
from hfpose.models.mobilenet_v2 import PoseMobileNetV2Backbone, PoseMobileNetV2Config
from hfpose.models.rle import RLEConfig, RLEForPoseEstimation

TINY_NAMES = {0: "a", 1: "b", 2: "c", 3: "d"}
TINY_HRNET = dict(
    stem_channels=8,
    stage1_channels=4,
    stage1_num_blocks=1,
    hidden_sizes=[4, 8, 16, 32],
    num_modules=[1, 1, 1],
    num_blocks=[1, 1, 1],
)


def tiny_resnet():
    return resnet_backbone_config(50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 24, 32], embedding_size=8)


# Tests of the mixins that hfpose opts out of, with the reason (a mismatch of contract, not a bug hidden).
OPT_OUTS = {
    "test_resize_tokens_embeddings": "no token embeddings (vision models)",
    "test_resize_embeddings_untied": "no token embeddings (vision models)",
    "test_model_get_set_embeddings": "no input embeddings (convolutional stem, as transformers' ResNet)",
    "test_inputs_embeds": "no inputs_embeds (vision models)",
    "test_inputs_embeds_matches_input_ids": "no input_ids (vision models)",
}


HRNET_REFUSES_REENTRANT = (
    "HRNet's modules pass lists of branch tensors, which reentrant checkpointing cannot carry "
    "gradients through: hfpose raises for use_reentrant=True (tested in "
    "tests/models/test_gradient_checkpointing.py); the default and use_reentrant=False run"
)
BACKBONE_HAS_NO_LOSS = (
    "a backbone returns feature maps, no loss; transformers skips its own backbones here by "
    "MODEL_FOR_BACKBONE_MAPPING_NAMES, which backbones registered from outside are not in"
)


class PoseModelTester:
    """What `ModelTesterMixin` asks of a model tester, for one tiny hfpose config."""

    def __init__(self, parent, config_factory, image_size=(64, 48), batch_size=2, num_hidden_states=5):
        self.parent = parent
        self.config_factory = config_factory
        self.batch_size = batch_size
        self.image_size = image_size  # (height, width)
        self.num_channels = 3
        self.is_training = True
        self.num_hidden_states = num_hidden_states

    def get_config(self):
        return self.config_factory()

    def prepare_config_and_inputs(self):
        pixel_values = floats_tensor([self.batch_size, self.num_channels, *self.image_size])
        return self.get_config(), pixel_values

    def prepare_config_and_inputs_for_common(self):
        config, pixel_values = self.prepare_config_and_inputs()
        return config, {"pixel_values": pixel_values}


class HfposeModelTestMixin(ModelTesterMixin):
    """`ModelTesterMixin` for the convolutional hfpose models: no attention, no token embeddings."""

    config_class = None
    config_factory = None
    image_size = (64, 48)
    num_hidden_states = 5
    common_properties = ["num_keypoints"]
    opt_outs: dict[str, str] = {}
    has_attentions = False
    test_resize_embeddings = False
    test_torch_exportable = True

    def setUp(self):
        self.model_tester = PoseModelTester(
            self, type(self).config_factory, image_size=self.image_size, num_hidden_states=self.num_hidden_states
        )
        self.config_tester = ConfigTester(
            self,
            config_class=self.config_class,
            has_text_modality=False,
            common_properties=list(self.common_properties),
        )

    def test_config(self):
        self.config_tester.run_common_tests()

    def training_targets(self, config) -> dict:
        """Targets that make `forward` return `.loss` (what `return_labels=True` asks for)."""
        generator = torch.Generator().manual_seed(0)
        batch_size, num_keypoints = self.model_tester.batch_size, config.num_keypoints
        return {
            "labels": torch.rand(batch_size, num_keypoints, 2, generator=generator),
            "label_weights": torch.ones(batch_size, num_keypoints),
        }

    def _prepare_for_class(self, inputs_dict, model_class, return_labels=False):
        inputs_dict = super()._prepare_for_class(inputs_dict, model_class, return_labels=return_labels)
        if return_labels and self.training_targets is not None:
            inputs_dict.update(self.training_targets(self.model_tester.get_config()))
        return inputs_dict

    def test_hidden_states_output(self):
        # Overridden as for transformers' CNNs (ResNet): one feature map per backbone stage, `(B, C, h, w)`.
        def check(inputs_dict, config, model_class):
            model = model_class(copy.deepcopy(config)).eval()
            with torch.no_grad():
                outputs = model(**self._prepare_for_class(inputs_dict, model_class))
            hidden_states = outputs.hidden_states
            self.assertIsNotNone(hidden_states, f"{model_class.__name__} returned no hidden_states")
            self.assertEqual(len(hidden_states), self.model_tester.num_hidden_states)
            for state in hidden_states:
                self.assertEqual(state.ndim, 4)
                self.assertEqual(state.shape[0], self.model_tester.batch_size)

        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            inputs_dict["output_hidden_states"] = True
            check(inputs_dict, config, model_class)
            del inputs_dict["output_hidden_states"]
            top_level_only = copy.deepcopy(config)  # the model's own config, not only its backbone's
            top_level_only.output_hidden_states = True
            check(inputs_dict, top_level_only, model_class)

    def test_retain_grad_hidden_states_attentions(self):
        # As transformers' test, but the first output of the bottom-up models and the backbones is a tuple of maps
        # (one per resolution / stage), so the gradient is taken through its first entry.
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        config.output_hidden_states = True
        model = self.all_model_classes[0](config)
        outputs = model(**self._prepare_for_class(inputs_dict, self.all_model_classes[0]))
        output = outputs[0][0] if isinstance(outputs[0], tuple) else outputs[0]
        hidden_states = outputs.hidden_states[0]
        hidden_states.retain_grad()
        output.flatten()[0].backward(retain_graph=True)
        self.assertIsNotNone(hidden_states.grad)

    def test_output_hidden_states_from_pretrained_kwarg(self):
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            with tempfile.TemporaryDirectory() as directory:
                model_class(config).save_pretrained(directory)
                model = model_class.from_pretrained(directory, output_hidden_states=True).eval()
            with torch.no_grad():
                outputs = model(**inputs_dict)
            self.assertEqual(len(outputs.hidden_states), self.model_tester.num_hidden_states)


def _opt_out(cls):
    for name, reason in {**OPT_OUTS, **cls.opt_outs}.items():
        if hasattr(cls, name):
            setattr(cls, name, unittest.skip(reason)(getattr(cls, name)))
    return cls


def integral_targets(self, config) -> dict:
    """Coordinates in [0, 1], weights, and normalized target heatmaps (the integral models' heatmap loss)."""
    targets = HfposeModelTestMixin.training_targets(self, config)
    width, height = config.heatmap_size
    generator = torch.Generator().manual_seed(1)
    heatmaps = torch.rand(self.model_tester.batch_size, config.num_keypoints, height, width, generator=generator)
    targets["target_heatmaps"] = heatmaps / heatmaps.sum(dim=(-2, -1), keepdim=True)
    return targets


def _integral(config_class):
    return lambda: config_class(
        backbone_config=tiny_resnet(),
        input_size=[64, 64],
        deconv_out_channels=[8, 8],
        deconv_kernel_sizes=[4, 4],
        dataset="custom",
        id2label=TINY_NAMES,
    )


@_opt_out
class DeepPoseModelTest(HfposeModelTestMixin, unittest.TestCase):
    all_model_classes = (DeepPoseForPoseEstimation,)
    config_class = DeepPoseConfig
    config_factory = staticmethod(
        lambda: DeepPoseConfig(
            backbone_config=tiny_resnet(), input_size=[48, 64], dataset="custom", id2label=TINY_NAMES
        )
    )


@_opt_out
class RLEModelTest(HfposeModelTestMixin, unittest.TestCase):
    all_model_classes = (RLEForPoseEstimation,)
    config_class = RLEConfig
    config_factory = staticmethod(
        lambda: RLEConfig(
            backbone_config=tiny_resnet(),
            input_size=[48, 64],
            dataset="custom",
            id2label=TINY_NAMES,
            flow_hidden_size=8,
        )
    )


@_opt_out
class IPRModelTest(HfposeModelTestMixin, unittest.TestCase):
    all_model_classes = (IPRForPoseEstimation,)
    config_class = IPRConfig
    config_factory = staticmethod(_integral(IPRConfig))
    image_size = (64, 64)
    training_targets = integral_targets


@_opt_out
class DSNTModelTest(HfposeModelTestMixin, unittest.TestCase):
    all_model_classes = (DSNTForPoseEstimation,)
    config_class = DSNTConfig
    config_factory = staticmethod(_integral(DSNTConfig))
    image_size = (64, 64)
    training_targets = integral_targets


@_opt_out
class DebiasIPRModelTest(HfposeModelTestMixin, unittest.TestCase):
    all_model_classes = (DebiasIPRForPoseEstimation,)
    config_class = DebiasIPRConfig
    config_factory = staticmethod(_integral(DebiasIPRConfig))
    image_size = (64, 64)
    training_targets = integral_targets


def bottom_up_targets(self, config) -> dict:
    """Heatmap targets and full masks per output resolution (1/4, then 1/2 for HigherHRNet), and AE joints: two
    people whose keypoints sit at tag-map indices `k·H·W + y·W + x`."""
    generator = torch.Generator().manual_seed(0)
    batch_size, num_keypoints = self.model_tester.batch_size, config.num_keypoints
    height, width = (side // 4 for side in self.image_size)
    sizes = [(height * 2**s, width * 2**s) for s in range(len(config.heatmap_loss_factors))]
    heatmaps = tuple(torch.rand(batch_size, num_keypoints, h, w, generator=generator) for h, w in sizes)
    masks = tuple(torch.ones(batch_size, h, w) for h, w in sizes)
    joints = torch.zeros(batch_size, 2, num_keypoints, 2, dtype=torch.long)
    positions = torch.randint(0, height * width, (batch_size, 2, num_keypoints), generator=generator)
    joints[..., 0] = torch.arange(num_keypoints) * height * width + positions
    joints[..., 1] = 1
    return {"target_heatmaps": heatmaps, "target_masks": masks, "joints": joints}


@_opt_out
class AssociativeEmbeddingModelTest(HfposeModelTestMixin, unittest.TestCase):
    all_model_classes = (AssociativeEmbeddingForPoseEstimation,)
    config_class = AssociativeEmbeddingConfig
    config_factory = staticmethod(lambda: AssociativeEmbeddingConfig(backbone_config=HRNetConfig(**TINY_HRNET)))
    image_size = (64, 64)
    num_hidden_states = 6  # stem, stage 1, four stage-4 branches
    training_targets = bottom_up_targets
    opt_outs = {"test_training_gradient_checkpointing_use_reentrant_true": HRNET_REFUSES_REENTRANT}


@_opt_out
class HigherHRNetModelTest(HfposeModelTestMixin, unittest.TestCase):
    all_model_classes = (HigherHRNetForPoseEstimation,)
    config_class = HigherHRNetConfig
    config_factory = staticmethod(lambda: HigherHRNetConfig(backbone_config=HRNetConfig(**TINY_HRNET)))
    image_size = (64, 64)
    num_hidden_states = 6
    training_targets = bottom_up_targets
    opt_outs = {"test_training_gradient_checkpointing_use_reentrant_true": HRNET_REFUSES_REENTRANT}


@_opt_out
class HRNetBackboneModelTest(HfposeModelTestMixin, unittest.TestCase):
    all_model_classes = (HRNetBackbone,)
    config_class = HRNetConfig
    config_factory = staticmethod(lambda: HRNetConfig(**TINY_HRNET))
    image_size = (64, 64)
    num_hidden_states = 6
    training_targets = None
    common_properties = ["hidden_sizes", "num_channels"]
    opt_outs = {
        name: BACKBONE_HAS_NO_LOSS
        for name in (
            "test_training",
            "test_training_gradient_checkpointing",
            "test_training_gradient_checkpointing_use_reentrant_false",
            "test_training_gradient_checkpointing_use_reentrant_true",
        )
    }


@_opt_out
class PoseMobileNetV2BackboneModelTest(HfposeModelTestMixin, unittest.TestCase):
    all_model_classes = (PoseMobileNetV2Backbone,)
    config_class = PoseMobileNetV2Config
    config_factory = staticmethod(lambda: PoseMobileNetV2Config(widen_factor=0.25, last_channels=40))
    num_hidden_states = 9
    training_targets = None
    common_properties = ["num_channels"]
    opt_outs = {
        name: BACKBONE_HAS_NO_LOSS
        for name in (
            "test_training",
            "test_training_gradient_checkpointing",
            "test_training_gradient_checkpointing_use_reentrant_false",
            "test_training_gradient_checkpointing_use_reentrant_true",
        )
    }


class _BackboneTests(BackboneTesterMixin):
    """transformers' `BackboneTesterMixin` on hfpose's two backbones (their `ModelTesterMixin` run is above)."""

    has_attentions = False

    def setUp(self):
        self.model_tester = PoseModelTester(self, type(self).config_factory, image_size=self.image_size)


BACKBONE_OPT_OUTS = {
    "test_config": (
        "asserts stage names `stem, stage1..N`; hfpose's follow MMPose's layout so `out_features` name MMPose's "
        "outputs (HRNet: stem, stage1, branch1-4; MobileNetV2: stem, layer1-7, conv2). The rest of the mixin, "
        "out_features/out_indices selection included, runs on those names"
    ),
}


def _backbone_opt_out(cls):
    for name, reason in BACKBONE_OPT_OUTS.items():
        setattr(cls, name, unittest.skip(reason)(getattr(cls, name)))
    return cls


@_backbone_opt_out
class HRNetBackboneCommonTest(_BackboneTests, unittest.TestCase):
    all_model_classes = (HRNetBackbone,)
    config_class = HRNetConfig
    config_factory = staticmethod(lambda: HRNetConfig(**TINY_HRNET))
    image_size = (64, 64)


@_backbone_opt_out
class PoseMobileNetV2BackboneCommonTest(_BackboneTests, unittest.TestCase):
    all_model_classes = (PoseMobileNetV2Backbone,)
    config_class = PoseMobileNetV2Config
    config_factory = staticmethod(lambda: PoseMobileNetV2Config(widen_factor=0.25, last_channels=40))
    image_size = (64, 48)
