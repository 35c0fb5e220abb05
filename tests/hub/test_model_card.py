"""Model cards: Hub metadata that parses, `model-index` that round-trips, numbers equal to MMPose's tables."""

import json
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from huggingface_hub.repocard_data import eval_results_to_model_index, model_index_to_eval_results

from hfpose.hub.model_card import REFERENCE_RESULTS, find_reference, make_model_card, normalize_results

REPO = Path(__file__).resolve().parents[2]
GENERATED = REPO / "model_cards" / "generated"

# The reference tables of the top-down and bottom-up issues, transcribed independently of REFERENCE_RESULTS.
TOPDOWN_TABLE = {
    "td-reg_res50_8xb64-210e_coco-256x192": {"AP": 0.528},
    "td-reg_res101_8xb64-210e_coco-256x192": {"AP": 0.562},
    "td-reg_res152_8xb64-210e_coco-256x192": {"AP": 0.584},
    "td-reg_res50_8xb64-210e_mpii-256x256": {"PCKh@0.5": 0.826},
    "td-reg_res101_8xb64-210e_mpii-256x256": {"PCKh@0.5": 0.841},
    "td-reg_res152_8xb64-210e_mpii-256x256": {"PCKh@0.5": 0.850},
    "td-reg_res50_rle-8xb64-210e_coco-256x192": {"AP": 0.706},
    "td-reg_res101_rle-8xb64-210e_coco-256x192": {"AP": 0.722},
    "td-reg_res152_rle-8xb64-210e_coco-256x192": {"AP": 0.731},
    "td-reg_mobilenetv2_rle-pretrained-8xb64-210e_coco-256x192": {"AP": 0.593},
    "td-reg_res50_rle-8xb64-210e_mpii-256x256": {"PCKh@0.5": 0.861},
    "ipr_res50_8xb64-210e_coco-256x256": {"AP": 0.633},
    "ipr_res50_dsnt-8xb64-210e_coco-256x256": {"AP": 0.674},
    "ipr_res50_debias-8xb64-210e_coco-256x256": {"AP": 0.675},
}
BOTTOMUP_TABLE = {  # AP, AP50, AP75, AR, AR50
    "associative_embedding_hrnet_w32_coco_512x512_udp": (0.667, 0.861, 0.719, 0.713, 0.887),
    "associative_embedding_hrnet_w48_coco_512x512_udp": (0.680, 0.870, 0.731, 0.725, 0.892),
    "associative_embedding_higherhrnet_w32_coco_512x512_udp": (0.674, 0.868, 0.722, 0.716, 0.890),
    "associative_embedding_higherhrnet_w48_coco_512x512_udp": (0.688, 0.871, 0.742, 0.731, 0.891),
}
EXPECTED = {
    **TOPDOWN_TABLE,
    **{name: dict(zip(("AP", "AP .5", "AP .75", "AR", "AR .5"), values)) for name, values in BOTTOMUP_TABLE.items()},
}


def test_reference_results_equal_the_issue_tables():
    assert {row.name: dict(row.metrics) for row in REFERENCE_RESULTS} == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_generated_card_metadata_parses_and_numbers_match(name):
    path = GENERATED / f"{name}.md"
    assert path.is_file(), f"run scripts/generate_model_cards.py: {path} is missing"
    card = ModelCard.load(path)
    data = card.data
    assert data.library_name == "hfpose"
    assert data.pipeline_tag == "keypoint-detection"
    assert data.license == "apache-2.0"
    row = find_reference(name)
    assert data.datasets == [row.dataset]
    assert {"pose-estimation", "mmpose", "top-down" if row.input_size != (512, 512) else "bottom-up"} <= set(data.tags)
    # model-index round trip: metadata -> EvalResults -> model-index -> EvalResults
    model_index = card.data.to_dict()["model-index"]
    model_name, results = model_index_to_eval_results(model_index)
    assert model_name == name
    assert model_index_to_eval_results(eval_results_to_model_index(model_name, results)) == (model_name, results)
    got = {result.metric_name: result.metric_value for result in results}
    assert got == pytest.approx(EXPECTED[name], abs=0)
    for result in results:
        assert result.task_type == "keypoint-detection"
        assert result.source_name == "MMPose model zoo"
        assert result.source_url.startswith("https://github.com/open-mmlab/mmpose/tree/")
    # the body says where the numbers come from, shows every number, and has a BibTeX citation and usage
    assert "reported by MMPose" in card.text and "measured by hfpose" not in card.text
    for value in EXPECTED[name].values():
        assert f"{value:.3f}" in card.text
    assert "```bibtex" in card.text and "@inproceedings" in card.text
    assert f'pipeline("keypoint-detection", model="hfpose/{name}")' in card.text
    width, height = row.input_size
    assert f"{width}x{height} pixels (width x height)" in card.text


@pytest.mark.golden
def test_generated_cards_are_up_to_date_and_urls_match_manifests(golden_dir, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_model_cards", REPO / "scripts" / "generate_model_cards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.generate(tmp_path, golden_dir / "manifests", quiet=True)
    assert sorted(p.name for p in written) == sorted(p.name for p in GENERATED.glob("*.md"))
    for path in written:
        assert path.read_text() == (GENERATED / path.name).read_text(), f"{path.name} is stale: regenerate the cards"
    for manifest_path in (golden_dir / "manifests").glob("*.json"):
        manifest = json.loads(manifest_path.read_text())
        card_path = GENERATED / f"{manifest_path.stem}.md"
        if isinstance(manifest, dict) and card_path.is_file():
            text = card_path.read_text()
            assert f"- URL: {manifest['released_url']}" in text
            assert f"original file: `{manifest['released_url'].rsplit('/', 1)[-1]}`" in text


def _tiny_config():
    from hfpose.models.backbones import resnet_backbone_config
    from hfpose.models.rle import RLEConfig

    backbone = resnet_backbone_config(
        50, depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 16, 32], embedding_size=8, layer_type="basic"
    )
    return RLEConfig(backbone_config=backbone, input_size=[48, 64])


def test_measured_results_are_labelled_with_their_command(tmp_path):
    config = _tiny_config()
    config.save_pretrained(tmp_path / "tiny")
    stats = {
        "AP": 0.123456,
        "AP .5": 0.5,
        "AP .75": 0.25,
        "AP (M)": 0.1,
        "AP (L)": 0.2,
        "AR": 0.3,
        "AR .5": 0.6,
        "AR .75": 0.35,
        "AR (M)": 0.15,
        "AR (L)": 0.4,
    }
    evaluation = {"model_dir": "tiny", "split": "val2017", "bbox_file": None, "flip_test": True, "stats": stats}
    (tmp_path / "eval.json").write_text(json.dumps(evaluation))
    reported = {"reported_by": "MMPose", "dataset": "coco", "metrics": {"AP": 0.706}}
    card = make_model_card(
        tmp_path / "tiny",
        results=[tmp_path / "eval.json", reported],
        source={"type": "trained", "recipe": "configs/demo/rle_tiny_coco-mini.yaml"},
        repo_id="someone/tiny-rle",
    )
    card.save(tmp_path / "README.md")
    loaded = ModelCard.load(tmp_path / "README.md")
    assert "measured by hfpose with `python scripts/evaluate.py tiny --data-root DATA_ROOT`" in loaded.text
    assert "reported by MMPose" in loaded.text
    # the five card metrics of the measured set (rounded to 4 decimals), then the reported one
    assert [(r.metric_name, r.metric_value) for r in loaded.data.eval_results] == [
        ("AP", 0.1235),
        ("AP .5", 0.5),
        ("AP .75", 0.25),
        ("AR", 0.3),
        ("AR .5", 0.6),
        ("AP", 0.706),
    ]
    assert all(r.source_name is None for r in loaded.data.eval_results)  # no URL given, so no source entry
    assert "Trained with hfpose" in loaded.text and "configs/demo/rle_tiny_coco-mini.yaml" in loaded.text
    assert 'model="someone/tiny-rle"' in loaded.text and "boxes=" in loaded.text


def test_pckh_results_are_converted_from_percent():
    [result] = normalize_results(
        {"stats": {"PCK": 86.1, "PCK@0.1": 30.0, "Head PCK": 95.0}, "model_dir": "m", "split": "val"}
    )
    assert result.dataset == "mpii"
    assert result.metrics == pytest.approx({"PCKh@0.5": 0.861, "PCKh@0.1": 0.30}, abs=1e-12)


def test_converted_source_records_file_url_and_tolerance(tmp_path):
    url = "https://example.org/checkpoints/td-reg_res50_rle-abc.pth"
    card = make_model_card(
        _tiny_config(), name="tiny", source={"type": "mmpose", "checkpoint_url": url, "verified_atol": 1e-4}
    )
    assert "original file: `td-reg_res50_rle-abc.pth`" in card.text
    assert f"- URL: {url}" in card.text
    assert "within an absolute tolerance of 0.0001" in card.text


def test_bad_inputs_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        make_model_card(tmp_path)
    with pytest.raises(ValueError, match="model_type 'resnet'"):
        make_model_card({"model_type": "resnet"})
    with pytest.raises(ValueError, match="unknown metric 'mAP'"):
        normalize_results({"reported_by": "MMPose", "dataset": "coco", "metrics": {"mAP": 0.5}})
    with pytest.raises(ValueError, match="not a fraction"):
        normalize_results({"reported_by": "MMPose", "dataset": "coco", "metrics": {"AP": 70.6}})
    with pytest.raises(ValueError, match="dataset must be one of"):
        normalize_results({"dataset": "lsp", "metrics": {"AP": 0.5}})
    with pytest.raises(FileNotFoundError, match="results\\[0\\]"):
        normalize_results(str(tmp_path / "missing.json"))
    with pytest.raises(ValueError, match="source has unknown keys \\['url'\\]"):
        make_model_card(_tiny_config(), source={"url": "x"})
    with pytest.raises(KeyError, match="no reference row named 'nope'"):
        find_reference("nope")
