"""Malformed annotation files and random rows through the data loaders and transforms.

* A corpus of malformed COCO and MPII annotation files (missing keys, wrong keypoint counts, negative areas,
  unknown image ids, ``file_name`` with ``..`` / absolute / drive / UNC paths, NaN, wrong types, broken JSON ...)
  written into a temporary data root: each one raises a ValueError naming the record, through every loader that
  reads it (`load_coco_keypoints` in both modes, `load_coco_bottomup`, `load_mpii`), and an audit hook proves that no
  file outside the data root is opened.
* Hypothesis: random (partly broken) COCO records → a dataset whose rows satisfy the invariants, or a ValueError
  naming the record; random rows (degenerate boxes, NaN keypoints, negative visibility, tiny / grey / RGBA images)
  through the training and evaluation transforms → finite network inputs and targets, or a ValueError naming the
  annotation id; random batches through `default_collate` → stacked tensors or a ValueError naming the field.
"""

from __future__ import annotations

import copy
import json
import math
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import reliability_tally as tally
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hfpose.data import (
    TopDownEvalTransform,
    TopDownTrainTransform,
    default_collate,
    load_coco_bottomup,
    load_coco_keypoints,
    load_mpii,
)

SETTINGS = settings(
    max_examples=tally.EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

# ----------------------------------------------------------------------------------------- audit of opened files

_OPENED: list[str] | None = None


def _audit(event, args):
    if _OPENED is not None and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


class opened_files:
    """Context manager collecting the paths Python opens inside it."""

    def __enter__(self):
        global _OPENED
        _OPENED = []
        return _OPENED

    def __exit__(self, *exc):
        global _OPENED
        _OPENED = None


def _outside(paths: list[str], root: Path) -> list[str]:
    root = root.resolve()
    out = []
    for path in paths:
        resolved = Path(path).resolve()
        if (
            resolved != root
            and root not in resolved.parents
            and not str(resolved).startswith(sys.prefix)
            and "site-packages" not in str(resolved)
            and not str(resolved).startswith("/proc")
        ):
            out.append(path)
    return out


# ------------------------------------------------------------------------------------------------ COCO corpus


def _write_image(path: Path, width: int = 32, height: int = 24) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    cv2.imwrite(str(path), image)


def _keypoints(count: int = 17) -> list[float]:
    values = []
    for k in range(count):
        values += [4.0 + k, 5.0 + (k % 7), 2]
    return values


def coco_base() -> dict:
    return {
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 32, "height": 24},
            {"id": 2, "file_name": "sub/b.jpg", "width": 32, "height": 24},
        ],
        "annotations": [
            {
                "id": 10,
                "image_id": 1,
                "bbox": [2.0, 3.0, 20.0, 15.0],
                "keypoints": _keypoints(),
                "num_keypoints": 17,
                "area": 300.0,
                "iscrowd": 0,
                "segmentation": [[2, 3, 22, 3, 22, 18, 2, 18]],
            },
            {
                "id": 11,
                "image_id": 1,
                "bbox": [5.0, 1.0, 10.0, 10.0],
                "keypoints": _keypoints(),
                "num_keypoints": 17,
                "area": 100.0,
                "iscrowd": 0,
            },
            {
                "id": 12,
                "image_id": 2,
                "bbox": [1.0, 1.0, 30.0, 20.0],
                "keypoints": _keypoints(),
                "num_keypoints": 17,
                "area": 600.0,
                "iscrowd": 0,
            },
        ],
        "categories": [{"id": 1, "name": "person"}],
    }


def _set(path, value):
    def mutate(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return data

    return mutate


_DELETE = object()
ANN = r"annotation id 1[0-2] \(annotations\[\d\]\)"
IMG1 = r"image id 1 \(images\[0\]\)"

# (case name, mutation of the base json or raw file text, regular expression the error must match)
COCO_CORPUS = [
    ("not json", "{'images': [", r"is not valid JSON"),
    ("empty file", "", r"is not valid JSON"),
    ("top level is a list", "[]", r"must hold a JSON object"),
    ("no images list", _set(("images",), _DELETE), r"has no 'images' list"),
    ("no annotations list", _set(("annotations",), _DELETE), r"has no 'annotations' list"),
    ("images is a dict", _set(("images",), {"1": {}}), r"has no 'images' list"),
    ("image is a list", _set(("images", 0), [1, "a.jpg"]), r"images\[0\] must be a JSON object"),
    (
        "image without file_name",
        _set(("images", 0, "file_name"), _DELETE),
        IMG1 + r": missing key\(s\) \['file_name'\]",
    ),
    ("image without id", _set(("images", 0, "id"), _DELETE), r"image id \? \(images\[0\]\): missing key"),
    ("image id is a string", _set(("images", 0, "id"), "one"), IMG1.replace("1", "one", 1) + r": id must be an int"),
    ("image width 0", _set(("images", 0, "width"), 0), IMG1 + r": width must be >= 1"),
    ("image height negative", _set(("images", 0, "height"), -24), IMG1 + r": height must be >= 1"),
    ("duplicate image id", _set(("images", 1, "id"), 1), r"image id 1 \(images\[1\]\) appears more than once"),
    ("file_name escapes with ..", _set(("images", 0, "file_name"), "../../outside.jpg"), IMG1 + r".*'\.\.'"),
    ("file_name .. in the middle", _set(("images", 0, "file_name"), "sub/../../outside.jpg"), IMG1 + r".*'\.\.'"),
    ("file_name absolute POSIX", _set(("images", 0, "file_name"), "/etc/passwd"), IMG1 + r".*absolute"),
    ("file_name Windows drive", _set(("images", 0, "file_name"), "C:\\Windows\\win.ini"), IMG1 + r".*absolute"),
    ("file_name UNC path", _set(("images", 0, "file_name"), "\\\\server\\share\\x.jpg"), IMG1 + r".*absolute"),
    ("file_name backslash ..", _set(("images", 0, "file_name"), "..\\outside.jpg"), IMG1 + r".*'\.\.'"),
    ("file_name empty", _set(("images", 0, "file_name"), ""), IMG1 + r": file_name must be a non-empty string"),
    ("file_name NUL byte", _set(("images", 0, "file_name"), "a.jpg\x00.png"), IMG1 + r".*NUL"),
    ("file_name a number", _set(("images", 0, "file_name"), 42), IMG1 + r": file_name must be a non-empty string"),
    ("file_name missing on disk", _set(("images", 0, "file_name"), "missing.jpg"), r"image id 1: image file 'missing"),
    ("annotation is a list", _set(("annotations", 0), [1, 2]), r"annotations\[0\] must be a JSON object"),
    (
        "annotation without keypoints",
        _set(("annotations", 0, "keypoints"), _DELETE),
        r"annotation id 10 \(annotations\[0\]\): missing key\(s\) \['keypoints'\]",
    ),
    ("annotation without bbox", _set(("annotations", 1, "bbox"), _DELETE), r"annotation id 11 .*missing.*bbox"),
    ("annotation without image_id", _set(("annotations", 2, "image_id"), _DELETE), r"annotation id 12 .*image_id"),
    ("annotation without id", _set(("annotations", 0, "id"), _DELETE), r"annotation id \? \(annotations\[0\]\)"),
    (
        "50 keypoint values",
        _set(("annotations", 0, "keypoints"), _keypoints()[:-1]),
        r"annotation id 10 .*keypoints has 50 values; expected 51",
    ),
    (
        "16 keypoints (MPII count)",
        _set(("annotations", 1, "keypoints"), _keypoints(16)),
        r"annotation id 11 .*keypoints has 48 values; expected 51",
    ),
    (
        "keypoint is a string",
        _set(("annotations", 0, "keypoints", 4), "5"),
        r"annotation id 10 .*keypoints must hold only",
    ),
    (
        "keypoint is NaN",
        _set(("annotations", 0, "keypoints", 0), math.nan),
        r"annotation id 10 .*keypoints has a non-finite",
    ),
    ("keypoint is Infinity", _set(("annotations", 2, "keypoints", 3), math.inf), r"annotation id 12 .*non-finite"),
    (
        "keypoints is a dict",
        _set(("annotations", 0, "keypoints"), {"x": 1}),
        r"annotation id 10 .*keypoints must be a list",
    ),
    ("negative visibility", _set(("annotations", 0, "keypoints", 2), -1), r"annotation id 10 .*negative visibility"),
    ("bbox with 3 values", _set(("annotations", 0, "bbox"), [1, 2, 3]), r"annotation id 10 .*bbox must have 4 values"),
    ("bbox negative width", _set(("annotations", 1, "bbox"), [5, 1, -10, 10]), r"annotation id 11 .*negative width"),
    ("bbox NaN", _set(("annotations", 0, "bbox", 1), math.nan), r"annotation id 10 .*bbox has a non-finite"),
    ("bbox 1e400 (inf)", _set(("annotations", 0, "bbox", 2), math.inf), r"annotation id 10 .*bbox has a non-finite"),
    ("bbox booleans", _set(("annotations", 0, "bbox"), [True, False, True, True]), r"annotation id 10 .*only numbers"),
    ("negative area", _set(("annotations", 0, "area"), -5.0), r"annotation id 10 .*area -5.0 is negative"),
    ("area NaN", _set(("annotations", 0, "area"), math.nan), r"annotation id 10 .*area has a non-finite"),
    ("area a string", _set(("annotations", 0, "area"), "big"), r"annotation id 10 .*area must hold only numbers"),
    ("unknown image id", _set(("annotations", 1, "image_id"), 99), r"annotation id 11 .*image_id 99 is not in"),
    ("duplicate annotation id", _set(("annotations", 1, "id"), 10), r"annotation id 10 \(annotations\[1\]\) appears"),
    ("iscrowd negative", _set(("annotations", 0, "iscrowd"), -1), r"annotation id 10 .*iscrowd must be >= 0"),
    ("iscrowd a string", _set(("annotations", 0, "iscrowd"), "no"), r"annotation id 10 .*iscrowd must be an integer"),
    ("num_keypoints negative", _set(("annotations", 0, "num_keypoints"), -3), r"annotation id 10 .*num_keypoints"),
    ("num_keypoints fractional", _set(("annotations", 0, "num_keypoints"), 2.5), r"annotation id 10 .*num_keypoints"),
]


@pytest.fixture
def coco_root(tmp_path):
    root = tmp_path / "data"
    for name in ("a.jpg", "sub/b.jpg"):
        _write_image(root / "train2017" / name)
    (root / "annotations").mkdir(parents=True)
    _write_image(tmp_path / "outside.jpg")  # a real file a malicious file_name could point at
    return root


def _write_coco(root: Path, mutation) -> Path:
    path = root / "annotations" / "person_keypoints_train2017.json"
    if isinstance(mutation, str):
        path.write_text(mutation)
    else:
        path.write_text(json.dumps(mutation(copy.deepcopy(coco_base()))))
    return path


def test_coco_base_file_loads(coco_root):
    _write_coco(coco_root, lambda data: data)
    assert len(load_coco_keypoints(coco_root, "train2017")) == 3
    assert len(load_coco_keypoints(coco_root, "train2017", mode="image")) == 2
    assert len(load_coco_bottomup(coco_root, "train2017")) == 2


LOADERS = {
    "load_coco_keypoints(topdown)": lambda root: load_coco_keypoints(root, "train2017"),
    "load_coco_keypoints(image)": lambda root: load_coco_keypoints(root, "train2017", mode="image"),
    "load_coco_bottomup": lambda root: load_coco_bottomup(root, "train2017"),
}


@pytest.mark.parametrize("case, mutation, pattern", COCO_CORPUS, ids=[c[0] for c in COCO_CORPUS])
def test_malformed_coco_file_names_the_record(coco_root, case, mutation, pattern):
    _write_coco(coco_root, mutation)
    outcomes = []
    for loader_name, loader in LOADERS.items():
        with opened_files() as opened:
            with pytest.raises(ValueError, match=pattern):
                loader(coco_root)
        assert not _outside(opened, coco_root), f"{case}: {loader_name} opened {_outside(opened, coco_root)}"
        outcomes.append(loader_name)
    tally.CORPUS[f"COCO: {case}"] = "ValueError naming the record (3 loaders), nothing outside the root opened"


# ------------------------------------------------------------------------------------------------ MPII corpus


def mpii_base() -> list[dict]:
    person = {
        "image": "015601864.jpg",
        "joints": [[10.0 + k, 20.0 + k] for k in range(16)],
        "joints_vis": [1] * 16,
        "center": [16.0, 12.0],
        "scale": 0.1,
    }
    return [person, {**copy.deepcopy(person), "image": "015599452.jpg"}]


MPII_CORPUS = [
    ("not json", "[{", r"is not valid JSON"),
    ("top level is an object", "{}", r"must hold a JSON list of people"),
    ("person is a string", _set((0,), "x"), r"MPII annotation 0 must be a JSON object"),
    (
        "no joints",
        _set((1, "joints"), _DELETE),
        r"MPII annotation 1 \(image '015599452.jpg'\): missing key\(s\) \['joints'\]",
    ),
    ("no scale", _set((0, "scale"), _DELETE), r"MPII annotation 0 .*missing key.*scale"),
    ("15 joints", _set((0, "joints"), [[1.0, 2.0]] * 15), r"MPII annotation 0 .*joints must have shape \(16, 2\)"),
    ("joints_vis 17 values", _set((0, "joints_vis"), [1] * 17), r"MPII annotation 0 .*joints_vis must have 16"),
    ("joint NaN", _set((0, "joints", 3, 0), math.nan), r"MPII annotation 0 .*joints has a non-finite"),
    ("joint a string", _set((0, "joints", 3, 0), "x"), r"MPII annotation 0 .*must be numbers"),
    ("center 3 values", _set((0, "center"), [1, 2, 3]), r"MPII annotation 0 .*center must be \[x, y\]"),
    ("scale zero", _set((1, "scale"), 0), r"MPII annotation 1 .*scale must be positive"),
    ("scale negative", _set((1, "scale"), -2.0), r"MPII annotation 1 .*scale must be positive"),
    ("scale infinite", _set((1, "scale"), math.inf), r"MPII annotation 1 .*scale has a non-finite"),
    ("image name not digits", _set((0, "image"), "cat.jpg"), r"MPII annotation 0 .*'<digits>.jpg'"),
    ("image escapes with ..", _set((0, "image"), "../015601864.jpg"), r"MPII annotation 0 .*'\.\.'"),
    ("image absolute path", _set((0, "image"), "/tmp/015601864.jpg"), r"MPII annotation 0 .*absolute"),
    ("image missing on disk", _set((1, "image"), "000000001.jpg"), r"MPII annotation 1 .*not found"),
]


@pytest.fixture
def mpii_root(tmp_path):
    root = tmp_path / "mpii"
    for name in ("015601864.jpg", "015599452.jpg"):
        _write_image(root / "images" / name)
    _write_image(tmp_path / "015601864.jpg")  # outside the root
    (root / "annotations").mkdir(parents=True)
    return root


def _write_mpii(root: Path, mutation) -> None:
    path = root / "annotations" / "mpii_train.json"
    path.write_text(mutation if isinstance(mutation, str) else json.dumps(mutation(mpii_base())))


def test_mpii_base_file_loads(mpii_root):
    _write_mpii(mpii_root, lambda data: data)
    assert len(load_mpii(mpii_root, "train")) == 2


@pytest.mark.parametrize("case, mutation, pattern", MPII_CORPUS, ids=[c[0] for c in MPII_CORPUS])
def test_malformed_mpii_file_names_the_record(mpii_root, case, mutation, pattern):
    _write_mpii(mpii_root, mutation)
    with opened_files() as opened:
        with pytest.raises(ValueError, match=pattern):
            load_mpii(mpii_root, "train")
    assert not _outside(opened, mpii_root), _outside(opened, mpii_root)
    tally.CORPUS[f"MPII: {case}"] = "ValueError naming the record, nothing outside the root opened"


# ------------------------------------------------------------------------------------- random COCO records


FIELD_VALUES = {
    "bbox": st.one_of(
        st.lists(st.floats(-50, 80, allow_nan=False), min_size=4, max_size=4),
        st.sampled_from([[1, 2, 3], [0, 0, 0, 0], [1, 1, math.nan, 2], "box", None, [1, 1, -2, 3]]),
    ),
    "area": st.one_of(st.floats(0, 1e4), st.sampled_from([-1.0, math.nan, "x", None])),
    "iscrowd": st.sampled_from([0, 0, 0, 1, -1, "no", 0.5]),
    "num_keypoints": st.sampled_from([0, 3, 17, -1, 2.5]),
    "image_id": st.sampled_from([1, 1, 2, 2, 3, "1"]),
}


@st.composite
def coco_records(draw):
    data = coco_base()
    annotations = []
    for index in range(draw(st.integers(0, 5))):
        keypoints = np.random.default_rng(index).uniform(-10, 40, (17, 3))
        keypoints[:, 2] = draw(st.sampled_from([0, 1, 2]))
        values = keypoints.ravel().tolist()
        if draw(st.integers(0, 19)) == 0:
            values[draw(st.integers(0, 50))] = draw(st.sampled_from([math.nan, -1.0, "v", math.inf]))
        if draw(st.integers(0, 19)) == 0:
            values = values[: draw(st.integers(0, 50))]
        ann = {
            "id": 100 + index,
            "image_id": 1,
            "bbox": [1.0, 1.0, 10.0, 10.0],
            "keypoints": values,
            "num_keypoints": 17,
        }
        for field, strategy in FIELD_VALUES.items():
            if draw(st.integers(0, 14)) == 0:
                value = draw(strategy)
                if value is None:
                    ann.pop(field, None)
                else:
                    ann[field] = value
        annotations.append(ann)
    data["annotations"] = annotations
    return data


def _record_is_valid(ann, image_ids) -> bool:
    def numbers(value, length=None):
        return (
            isinstance(value, list)
            and (length is None or len(value) == length)
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
        )

    if not {"id", "image_id", "bbox", "keypoints"} <= set(ann):
        return False
    if not isinstance(ann["image_id"], int) or ann["image_id"] not in image_ids:
        return False
    if not numbers(ann["bbox"], 4) or ann["bbox"][2] < 0 or ann["bbox"][3] < 0:
        return False
    if not numbers(ann["keypoints"], 51) or min(ann["keypoints"][2::3]) < 0:
        return False
    if "area" in ann and not (numbers([ann["area"]]) and ann["area"] >= 0):
        return False
    if not (isinstance(ann.get("iscrowd", 0), int) and ann.get("iscrowd", 0) >= 0):
        return False
    count = ann.get("num_keypoints", 0)
    if not (isinstance(count, (int, float)) and float(count).is_integer() and count >= 0):
        return False
    return True


@SETTINGS
@given(data=coco_records())
def test_random_coco_records_load_or_name_the_record(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("coco_random")
    (root / "annotations").mkdir()
    (root / "annotations" / "person_keypoints_train2017.json").write_text(json.dumps(data))
    dataset, error = tally.call(
        "data.load_coco_keypoints(random records)",
        load_coco_keypoints,
        root,
        "train2017",
        check_files=False,
        names=r"annotation id (\d+|\?) \(annotations\[\d+\]\)",
    )
    valid = all(_record_is_valid(ann, {1, 2}) for ann in data["annotations"])
    if error is not None:
        assert not valid, f"valid records rejected: {error}"
        return
    assert valid, "an invalid record was accepted"
    rows = dataset.with_format("numpy")[:]
    if len(dataset):
        assert np.isfinite(rows["keypoints"]).all() and rows["keypoints"].shape[1:] == (17, 3)
        assert np.isfinite(rows["bbox_scale"]).all() and (rows["bbox_scale"] > 0).all()
        for path in rows["image_path"]:
            assert Path(path).resolve().is_relative_to((root / "train2017").resolve())

    def clipped_box_positive(bbox):  # MMPose: clip xyxy to [0, W-1] x [0, H-1], float32, positive size
        x, y, w, h = bbox
        xyxy = np.array([np.clip(x, 0, 31), np.clip(y, 0, 23), np.clip(x + w, 0, 31), np.clip(y + h, 0, 23)])
        xyxy = xyxy.astype(np.float32)
        return xyxy[2] - xyxy[0] > 0 and xyxy[3] - xyxy[1] > 0

    expected = sum(
        1
        for ann in data["annotations"]
        if ann.get("iscrowd", 0) == 0
        and max(ann["keypoints"]) != 0
        and ann.get("num_keypoints", 1) > 0
        and clipped_box_positive(ann["bbox"])
    )
    assert len(dataset) == expected


# ------------------------------------------------------------------------------------------ random transform rows


@pytest.fixture(scope="module")
def image_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("transform_images")
    rng = np.random.default_rng(0)
    files = {}
    for name, shape in {
        "tiny.png": (1, 1, 3),
        "grey.png": (20, 30),
        "rgba.png": (16, 12, 4),
        "wide.jpg": (10, 90, 3),
        "photo.jpg": (48, 64, 3),
    }.items():
        path = root / name
        cv2.imwrite(str(path), rng.integers(0, 255, shape, dtype=np.uint8))
        files[name] = str(path)
    return files


ROW_VALUES = st.one_of(st.floats(-100, 200, allow_nan=False), st.sampled_from([math.nan, math.inf, -math.inf, 0.0]))


@SETTINGS
@given(data=st.data(), use_udp=st.booleans())
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_transform_rows_give_finite_targets_or_name_the_annotation(image_files, data, train, use_udp):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    keypoints = np.concatenate([rng.uniform(-20, 80, (17, 2)), rng.choice([0.0, 1.0, 2.0], (17, 1))], axis=1)
    if data.draw(st.integers(0, 4)) == 0:
        keypoints[data.draw(st.integers(0, 16)), data.draw(st.integers(0, 2))] = data.draw(
            st.sampled_from([math.nan, math.inf, -1.0])
        )
    box_kind = data.draw(st.sampled_from(["center_scale", "xyxy", "xywh"]))
    values = [data.draw(ROW_VALUES) if data.draw(st.integers(0, 6)) == 0 else v for v in rng.uniform(1, 40, 4).tolist()]
    row = {
        "image_path": image_files[data.draw(st.sampled_from(sorted(image_files)))],
        "keypoints": keypoints,
        "ann_id": 7,
        "image_id": 3,
    }
    if box_kind == "center_scale":
        row["bbox_center"], row["bbox_scale"] = values[:2], values[2:]
    elif box_kind == "xyxy":
        row["bbox_xyxy"] = [values[0], values[1], values[0] + values[2], values[1] + values[3]]
    else:
        row["bbox"] = values
    transform = (
        TopDownTrainTransform(input_size=(24, 32), use_udp=use_udp, seed=1)
        if train
        else TopDownEvalTransform(
            input_size=(24, 32), use_udp=use_udp, codec=TopDownTrainTransform(input_size=(24, 32)).codec
        )
    )
    if train and data.draw(st.booleans()):
        transform.set_epoch(data.draw(st.integers(0, 3)))
    name = f"data.{type(transform).__name__}.transform_example"
    output, error = tally.call(name, transform.transform_example, row, names=r"ann_id 7")
    if error is not None:
        finite = np.isfinite(keypoints[:, :2]).all() and (keypoints[:, 2] >= 0).all()
        assert not finite or not np.isfinite(values).all() or "degenerate box" in str(error), error
        return
    assert np.isfinite(keypoints[:, :2]).all() and (keypoints[:, 2] >= 0).all()
    assert output["pixel_values"].shape == (3, 32, 24) and np.isfinite(output["pixel_values"]).all()
    assert np.isfinite(output["labels"]).all() and set(np.unique(output["label_weights"])) <= {0.0, 1.0}
    assert np.isfinite(output["center"]).all() and (output["scale"] > 0).all()


@SETTINGS
@given(data=st.data())
def test_collate_stacks_or_names_the_field(data):
    import torch

    size = data.draw(st.integers(1, 4))
    shapes = [data.draw(st.sampled_from([(2, 3), (2, 3), (2, 3), (3, 2)])) for _ in range(size)]
    samples = [
        {"pixel_values": np.zeros(shape, np.float32), "image_id": i, "name": f"n{i}"} for i, shape in enumerate(shapes)
    ]
    if size > 1 and data.draw(st.integers(0, 5)) == 0:
        samples[-1].pop("image_id")
    batch, error = tally.call(
        "data.default_collate", default_collate, samples, names=r"(field 'pixel_values'|sample \d+ has fields)"
    )
    if error is not None:
        assert len(set(shapes)) > 1 or any("image_id" not in s for s in samples)
        return
    assert isinstance(batch["pixel_values"], torch.Tensor) and batch["pixel_values"].shape == (size, *shapes[0])
    assert batch["image_id"].tolist() == list(range(size)) and batch["name"] == [f"n{i}" for i in range(size)]
