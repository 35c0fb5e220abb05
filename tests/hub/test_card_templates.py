"""Cards are one template system: the sections and rows of a rendered card follow the method declarations, every
template ships as package data, a template folder may override one method's template, bad templates fail clearly."""

import configparser
import fnmatch
from pathlib import Path

import pytest

from hfpose.hub.card_templates import format_metric, package_template_dir, render_template
from hfpose.hub.model_card import make_model_card, reference_config
from hfpose.models import pose_methods

REPO = Path(__file__).resolve().parents[2]
SECTIONS = [
    "## Method",
    "## Results",
    "## Usage",
    "## Input size and coordinate convention",
    "## Training",
    "## Where the weights come from",
    "## Citation",
]
DATASET_NAMES = {"coco": "COCO val2017", "mpii": "MPII Human Pose val"}


def _one_top_down_one_bottom_up():
    methods = [method for method in pose_methods().values() if method.reference_results]
    return [next(m for m in methods if not m.bottom_up), next(m for m in methods if m.bottom_up)]


@pytest.mark.parametrize("method", _one_top_down_one_bottom_up(), ids=lambda method: method.name)
def test_card_sections_and_result_rows_follow_the_declaration(method):
    rows = method.reference_results
    card = make_model_card(
        reference_config(rows[0]), results=list(rows), name="demo", repo_id="someone/demo", remote_code=True
    )
    text = card.text
    assert [line for line in text.splitlines() if line.startswith("## ")] == SECTIONS
    family = "bottom-up" if method.bottom_up else "top-down"
    assert f"# demo\n\n**{method.title}** with a " in text
    assert f"backbone: {family} human pose estimation on " in text
    assert family in card.data.tags and set(method.tags) <= set(card.data.tags)
    # one table per reference row: the metric names, a separator per column, the values with three decimals
    separators = [line for line in text.splitlines() if line.startswith("|---")]
    assert len(separators) == len(rows) + text.count("| setting | value |")
    for row in rows:
        names, values = list(row.metrics), [f"{value:.3f}" for value in row.metrics.values()]
        table = (
            f"**{DATASET_NAMES[row.dataset]}** (reported by MMPose; {row.notes}):\n\n"
            f"| {' | '.join(names)} |\n|{'---|' * len(names)}\n| {' | '.join(values)} |\n\n"
            "Source: https://github.com/open-mmlab/mmpose/tree/"
        )
        assert table in text
    # usage: person boxes for top-down models only, and the remote-code snippet
    assert ("boxes=[[50, 30, 120, 300]]" in text) is not method.bottom_up
    assert 'AutoModelForPoseEstimation.from_pretrained("someone/demo", trust_remote_code=True)' in text
    # the citations close the card
    assert text.count("```bibtex") == 1 and text.endswith("}\n```")


def test_metric_filter_shows_three_decimals():
    assert format_metric(0.7064) == "0.706"
    assert format_metric(1) == "1.000"
    assert render_template("_results.jinja") == ""  # macros only: importing the file renders nothing


def test_every_method_template_extends_the_shared_layout_and_ships_as_package_data():
    folder = package_template_dir()
    for method in pose_methods().values():
        path = folder / f"{method.name}.jinja"
        assert path.is_file(), f"{method.name} has no card template {path}"
        assert path.read_text().startswith('{% extends "_card.jinja" %}\n'), path
    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg")
    patterns = [pattern.strip() for pattern in parser["options.package_data"]["hfpose"].split(",")]
    templates = sorted(path.name for path in folder.iterdir() if path.is_file())
    assert len(templates) >= len(pose_methods()) + 1
    for name in templates:
        assert any(fnmatch.fnmatch(f"hub/templates/{name}", p) for p in patterns), f"{name} is not package data"


def test_a_template_folder_may_override_one_method_and_keep_the_shared_sections(tmp_path):
    method = _one_top_down_one_bottom_up()[0]
    (tmp_path / f"{method.name}.jinja").write_text(
        '{% extends "_card.jinja" %}\n{% block method %}\nOur own words.\n{% endblock %}\n'
    )
    card = make_model_card(reference_config(method.reference_results[0]), name="x", template_dir=tmp_path)
    assert "## Method\n\nOur own words.\n\n## Results\n\nNo evaluation results were supplied" in card.text
    assert 'pipeline("keypoint-detection", model="USER/x")' in card.text  # the shipped _usage.jinja


def test_bad_templates_raise_one_line_errors(tmp_path):
    (tmp_path / "undefined.jinja").write_text("{{ nope }}")
    (tmp_path / "include.jinja").write_text('{% include "_missing.jinja" %}')
    with pytest.raises(ValueError, match="card template 'undefined.jinja': 'nope' is undefined"):
        render_template("undefined.jinja", tmp_path)
    with pytest.raises(FileNotFoundError, match="no card template '_missing.jinja'"):
        render_template("include.jinja", tmp_path)
    with pytest.raises(FileNotFoundError, match="no card template 'absent.jinja'"):
        render_template("absent.jinja", tmp_path)
