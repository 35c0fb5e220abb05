from pathlib import Path

import pytest

from hfpose.training.recipe import RecipeError, TrainingRecipe
from hfpose.training.schedules import warmup_multistep_factor

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_every_recipe_parses(path):
    recipe = TrainingRecipe.from_yaml(path)
    assert recipe.method in {"deeppose", "rle", "ipr", "dsnt", "debias_ipr", "ae_hrnet", "ae_higherhrnet"}
    assert recipe.epochs >= 1 and recipe.lr > 0


def test_recipes_follow_mmpose_learning_rates():
    by_name = {p.stem: TrainingRecipe.from_yaml(p) for p in RECIPES}
    # Adam 1e-3 for RLE ResNet-50 (COCO) and RLE MobileNetV2; 5e-4 for every other seed row.
    assert by_name["td-reg_res50_rle-8xb64-210e_coco-256x192"].lr == 1e-3
    assert by_name["td-reg_mobilenetv2_rle-pretrained-8xb64-210e_coco-256x192"].lr == 1e-3
    others = [
        n
        for n in by_name
        if n.startswith(("td-reg", "ipr"))
        and n
        not in {"td-reg_res50_rle-8xb64-210e_coco-256x192", "td-reg_mobilenetv2_rle-pretrained-8xb64-210e_coco-256x192"}
    ]
    assert len(others) == 12
    assert all(by_name[n].lr == 5e-4 for n in others)
    for name in others:
        recipe = by_name[name]
        assert (recipe.epochs, recipe.milestones, recipe.warmup_iters, recipe.batch_size, recipe.base_batch_size) == (
            210,
            [170, 200],
            500,
            64,
            512,
        )
    mpii = by_name["td-reg_res50_rle-8xb64-210e_mpii-256x256"]
    assert (
        mpii.dataset == "mpii" and mpii.half_body_prob == 0 and mpii.shift_prob == 0 and mpii.input_size == [256, 256]
    )


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("method: rle\nlearning_rate: 0.1\n")
    with pytest.raises(RecipeError, match="unknown recipe key 'learning_rate'"):
        TrainingRecipe.from_yaml(path)


def test_missing_file_and_bad_override(tmp_path):
    with pytest.raises(RecipeError, match="not found"):
        TrainingRecipe.from_yaml(tmp_path / "nope.yaml")
    path = tmp_path / "ok.yaml"
    path.write_text("method: rle\n")
    with pytest.raises(RecipeError, match="key=value"):
        TrainingRecipe.from_yaml(path, ["epochs"])
    with pytest.raises(RecipeError, match="unknown recipe key 'epoch'.*epochs"):
        TrainingRecipe.from_yaml(path, ["epoch=3"])


def test_overrides_are_yaml_typed(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("method: rle\nmodel: {flow_num_layers: 6}\n")
    recipe = TrainingRecipe.from_yaml(path, ["lr=5e-4", "milestones=[2, 3]", "model.flow_num_layers=4"])
    assert recipe.lr == 5e-4 and recipe.milestones == [2, 3] and recipe.model == {"flow_num_layers": 4}


def test_linear_lr_scaling():
    recipe = TrainingRecipe(lr=1e-3, base_batch_size=512)
    assert recipe.scaled_lr(64) == pytest.approx(1.25e-4)
    assert TrainingRecipe(lr=1e-3, auto_scale_lr=False).scaled_lr(64) == 1e-3


def test_warmup_multistep_factor_hand_values():
    # mmengine LinearLR(start_factor=0.001, end=500) then MultiStepLR([170, 200] epochs) with 10 steps per epoch.
    milestones = [1700, 2000]
    assert warmup_multistep_factor(0, 500, 0.001, milestones, 0.1) == pytest.approx(0.001)
    assert warmup_multistep_factor(250, 500, 0.001, milestones, 0.1) == pytest.approx(0.001 + 0.999 * 0.5)
    assert warmup_multistep_factor(500, 500, 0.001, milestones, 0.1) == pytest.approx(1.0)
    assert warmup_multistep_factor(1699, 500, 0.001, milestones, 0.1) == pytest.approx(1.0)
    assert warmup_multistep_factor(1700, 500, 0.001, milestones, 0.1) == pytest.approx(0.1)
    assert warmup_multistep_factor(2000, 500, 0.001, milestones, 0.1) == pytest.approx(0.01)
