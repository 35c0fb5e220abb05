"""Property-based bad-input tests of `TopDownPoseImageProcessor` (preprocess, post-processing, EXIF files).

Invariant (issue 7): every call either returns a result that satisfies the stated invariants or raises a
`ValueError` / `TypeError` whose message names the offending argument and index; valid input is never rejected.

* preprocess: ``P`` crops for ``P`` boxes, finite ``pixel_values`` inside the normalized range of ``[0, 255]``,
  finite ``center`` and positive finite ``scale``; errors name ``images[i]`` or ``boxes[i][j]``.
* post-processing: the same number of persons out as boxes in, per image; keypoints finite; keypoints whose
  normalized coordinates lie in ``[0, 1]`` fall inside the padded, aspect-fixed box (``center +- scale / 2``);
  scores in ``[0, 1]``; errors name ``outputs.keypoints[p][k]``, ``outputs.scores[p][k]`` or ``boxes[i][j]``.
* EXIF: a JPEG stored rotated/mirrored with orientation tag 1-8 decodes to the upright picture.

Runs `reliability_tally.EXAMPLES` (default 200) generated cases per property.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import reliability_tally as tally
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from hfpose.geometry import bbox_xywh_to_xyxy, bbox_xyxy_to_center_scale, fix_aspect_ratio
from hfpose.image_processing_topdown import TopDownPoseImageProcessor

SETTINGS = settings(
    max_examples=tally.EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])
LOW, HIGH = (-MEAN / STD).min(), ((1 - MEAN) / STD).max()  # range of normalized pixel values

# ------------------------------------------------------------------------------------------------------ strategies

DTYPES = ["uint8", "uint16", "float32", "float64", "int32", "int8", "bool"]


@st.composite
def images(draw, max_side: int = 40):
    """``(image, valid)``: an image in one of the accepted containers, and whether it is valid input."""
    height = draw(st.integers(1, max_side))
    width = draw(st.integers(1, max_side))
    channels = draw(st.sampled_from([None, 1, 2, 3, 4, 5]))
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = (height, width) if channels is None else (height, width, channels)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    corruption = draw(st.sampled_from(["none"] * 12 + ["above", "below", "nan", "inf"]))
    if dtype == np.bool_:
        array = rng.random(shape) > 0.5
    elif np.issubdtype(dtype, np.floating):
        array = rng.random(shape).astype(dtype)
        if corruption != "none":
            array.flat[rng.integers(array.size)] = {"above": 1.5, "below": -0.25, "nan": np.nan, "inf": np.inf}[
                corruption
            ]
    else:
        info = np.iinfo(dtype)
        top = info.max if dtype in (np.uint8, np.uint16) else 255
        array = rng.integers(0, top, shape, endpoint=True).astype(dtype)
        if corruption == "above" and dtype not in (np.uint8, np.uint16):
            array.flat[rng.integers(array.size)] = 256 if info.max >= 256 else info.max
        if corruption == "below" and info.min < 0:
            array.flat[rng.integers(array.size)] = -1
    # (H, W, 5) with H <= 4 is read as channels-first (C=H, H=W, W=5): documented, and then valid.
    valid = channels in (None, 1, 2, 3, 4) or height <= 4
    colour = array
    if colour.ndim == 3 and colour.shape[-1] not in (1, 2, 3, 4):
        colour = np.moveaxis(colour, 0, -1)
    if colour.ndim == 3:  # the alpha channel (LA, RGBA) is dropped unchecked: its values never reach the crop
        colour = colour[..., :1] if colour.shape[-1] in (1, 2) else colour[..., :3]
    if np.issubdtype(dtype, np.floating):
        valid &= bool(np.isfinite(colour).all() and colour.min() >= 0 and colour.max() <= 1)
    elif dtype not in (np.uint8, np.uint16, np.bool_):
        valid &= bool(colour.min() >= 0 and colour.max() <= 255)
    container = draw(st.sampled_from(["numpy", "torch", "pil", "numpy_chw"]))
    if container == "pil" and dtype == np.uint8 and channels in (None, 3, 4):
        return Image.fromarray(array), valid
    if container == "torch" and dtype not in (np.uint16,):
        return torch.from_numpy(array), valid
    if container == "numpy_chw" and channels in (1, 3, 4) and width > 5:  # channels-first is recognised
        return np.ascontiguousarray(np.moveaxis(array, -1, 0)), valid
    return array, valid


SPECIAL = [0.0, -0.0, -1.0, -5.0, 1e-45, 1e-30, 1e30, 1e38, 3.4e38, 1e39, 1e300, math.nan, math.inf, -math.inf]


@st.composite
def boxes_for(draw, width: int, height: int, max_boxes: int = 4):
    """A list of COCO boxes (some valid, some broken in every way) for an image of ``(width, height)``."""
    count = draw(st.integers(0, max_boxes))
    boxes = []
    for _ in range(count):
        kind = draw(st.sampled_from(["inside"] * 5 + ["partly_outside"] * 2 + ["outside", "special", "tiny"]))
        if kind == "inside":
            x = draw(st.floats(0, width, allow_nan=False))
            y = draw(st.floats(0, height, allow_nan=False))
            w = draw(st.floats(0.01, 2 * width + 1))
            h = draw(st.floats(0.01, 2 * height + 1))
        elif kind == "partly_outside":
            x = draw(st.floats(-3 * width, width, allow_nan=False))
            y = draw(st.floats(-3 * height, height, allow_nan=False))
            w = draw(st.floats(0.01, 6 * width + 1))
            h = draw(st.floats(0.01, 6 * height + 1))
        elif kind == "outside":
            x = draw(st.one_of(st.floats(width, 1e6), st.floats(-1e6, -1)))
            y = draw(st.floats(-1e6, 1e6))
            w, h = draw(st.floats(0.01, 0.99)), draw(st.floats(0.01, 1e3))
        elif kind == "tiny":
            x, y = draw(st.floats(0, width)), draw(st.floats(0, height))
            w, h = draw(st.sampled_from([1e-45, 1e-30, 1e-6, 0.5])), draw(st.sampled_from([1e-45, 1e-30, 1e-6, 0.5]))
        else:
            values = [draw(st.one_of(st.sampled_from(SPECIAL), st.floats(-100, 100))) for _ in range(4)]
            x, y, w, h = values
        boxes.append([x, y, w, h])
    return boxes


def box_is_valid(box, width: int | None, height: int | None, size=(12, 16), padding: float = 1.25) -> bool:
    """The oracle: a box the processor must accept. Finite and positive-sized in float32, overlapping the image
    ``[0, W] x [0, H]``, with a padded, aspect-fixed crop whose centre and size float32 can hold."""
    array = np.asarray(box, dtype=np.float64)
    if not np.isfinite(array).all() or array[2] <= 0 or array[3] <= 0:
        return False
    with np.errstate(all="ignore"):
        as32 = array.astype(np.float32)
        if not np.isfinite(as32).all() or as32[2] <= 0 or as32[3] <= 0:
            return False
        center, scale = bbox_xyxy_to_center_scale(bbox_xywh_to_xyxy(as32[None]), padding=padding)
        scale = fix_aspect_ratio(scale, size[0] / size[1])
    if not (np.isfinite(center).all() and np.isfinite(scale).all() and (scale > 0).all()):
        return False
    if width is None:  # post-processing knows no image: any representable box is fine
        return True
    x, y, w, h = (float(v) for v in as32)
    return x + w > 0 and y + h > 0 and x < width and y < height


def image_size(image) -> tuple[int, int]:
    """``(width, height)`` as the processor will see the image (channels-first arrays are recognised)."""
    if isinstance(image, Image.Image):
        return image.size
    shape = tuple(image.shape)
    if len(shape) == 3 and shape[-1] not in (1, 2, 3, 4) and shape[0] in (1, 2, 3, 4):
        shape = shape[1:] + shape[:1]
    return shape[1], shape[0]


# -------------------------------------------------------------------------------------------------------- preprocess


@SETTINGS
@given(data=st.data(), use_udp=st.booleans())
def test_preprocess_returns_valid_crops_or_names_the_bad_argument(data, use_udp):
    num_images = data.draw(st.integers(1, 3))
    drawn = [data.draw(images()) for _ in range(num_images)]
    image_list = [image for image, _ in drawn]
    box_lists = []
    for image in image_list:
        width, height = image_size(image)
        box_lists.append(
            data.draw(st.one_of(st.none(), boxes_for(width, height)))
            if num_images > 1
            else data.draw(boxes_for(width, height))
        )
    processor = TopDownPoseImageProcessor(size={"height": 16, "width": 12}, use_udp=use_udp)
    inputs = image_list if num_images > 1 or data.draw(st.booleans()) else image_list[0]
    boxes = box_lists if isinstance(inputs, list) else box_lists[0]
    result, error = tally.call(
        "topdown.preprocess(images, boxes)",
        processor,
        inputs,
        boxes=boxes,
        return_tensors="np",
        names=r"(images|boxes)\[\d+\]",
    )

    images_valid = [valid for _, valid in drawn]
    boxes_valid = [
        [box_is_valid(box, *image_size(image)) for box in (image_boxes or [])]
        for image, image_boxes in zip(image_list, box_lists)
    ]
    if error is not None:
        message = str(error)
        if message.startswith("images["):
            index = int(message[len("images[") :].split("]")[0])
            assert not images_valid[index], f"valid image rejected: {message}"
        else:
            i, j = (int(v) for v in re.match(r"boxes\[(\d+)\]\[(\d+)\]", message).groups())
            assert not boxes_valid[i][j], f"valid box rejected: {message}"
        return
    assert all(images_valid), "an invalid image was accepted"
    assert all(all(v) for v in boxes_valid), f"an invalid box was accepted: {box_lists}"
    expected = sum(1 if b is None else len(b) for b in box_lists)
    pixel_values = result["pixel_values"]
    assert pixel_values.shape == (expected, 3, 16, 12) and pixel_values.dtype == np.float32
    assert np.isfinite(pixel_values).all()
    assert pixel_values.min(initial=LOW) >= LOW - 1e-4 and pixel_values.max(initial=HIGH) <= HIGH + 1e-4
    assert result["center"].shape == result["scale"].shape == (expected, 2)
    assert np.isfinite(result["center"]).all() and np.isfinite(result["scale"]).all()
    assert (result["scale"] > 0).all()
    assert result["image_index"].tolist() == [
        i for i, b in enumerate(box_lists) for _ in range(1 if b is None else len(b))
    ]


@pytest.mark.parametrize(
    "shape, dtype",
    [((6000, 8000, 3), np.uint8), ((6000, 8000), np.uint16), ((8000, 6000, 1), np.float32)],
    ids=["8000x6000-rgb-uint8", "8000x6000-gray-uint16", "6000x8000-gray-float32"],
)
def test_preprocess_very_large_images(shape, dtype):
    image = np.zeros(shape, dtype=dtype)
    height, width = shape[:2]
    image[height // 2 - 50 : height // 2 + 50, width // 2 - 50 : width // 2 + 50] = {
        np.uint8: 200,
        np.uint16: 200 * 257,
        np.float32: 1,
    }[dtype]
    processor = TopDownPoseImageProcessor(size={"height": 64, "width": 48})
    boxes = [[width / 2 - 50, height / 2 - 50, 100, 100], [-10, -10, width + 20, height + 20], [width - 1, 0, 5, 5]]
    result, error = tally.call(
        "topdown.preprocess(8000x6000 explicit)", processor, image, boxes=boxes, return_tensors="np"
    )
    assert error is None
    pixel_values = result["pixel_values"]
    assert pixel_values.shape == (3, 3, 64, 48) and np.isfinite(pixel_values).all()
    # The centred bright square fills the middle of the first crop, whatever the dtype.
    centre = pixel_values[0, :, 32, 24] * STD + MEAN
    np.testing.assert_allclose(centre, 200 / 255 if dtype != np.float32 else 1.0, atol=2 / 255)
    result, error = tally.call(
        "topdown.preprocess(8000x6000 explicit)",
        processor,
        image,
        boxes=[[width + 1, 0, 10, 10]],
        names=r"boxes\[0\]\[0\]",
    )
    assert error is not None and "outside" in str(error)


# --------------------------------------------------------------------------------------------------- post-processing

VALUES = st.one_of(st.floats(-0.5, 1.5, width=32), st.sampled_from([math.nan, math.inf, -math.inf, 1e30]))


@st.composite
def pose_outputs(draw, num_persons: int, num_keypoints: int):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    keypoints = rng.random((num_persons, num_keypoints, 2)).astype(np.float32)
    kind = draw(st.sampled_from(["scores", "sigma", "none"]))
    outputs = {"keypoints": keypoints}
    if kind == "scores":
        outputs["scores"] = rng.random((num_persons, num_keypoints)).astype(np.float32)
    elif kind == "sigma":
        outputs["sigma"] = rng.random((num_persons, num_keypoints, 2)).astype(np.float32)
    # Corrupt a few values anywhere.
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(sorted(outputs)))
        array = outputs[name]
        if array.size:
            array.flat[draw(st.integers(0, array.size - 1))] = draw(VALUES)
    if draw(st.booleans()):
        outputs = {key: torch.from_numpy(value) for key, value in outputs.items()}
    return outputs


def _outputs_valid(outputs) -> bool:
    keypoints = np.asarray(outputs["keypoints"])
    if not np.isfinite(keypoints).all():
        return False
    for name in ("scores", "sigma"):
        if name in outputs:
            values = np.asarray(outputs[name])
            if not (np.isfinite(values).all() and values.min(initial=0) >= 0 and values.max(initial=0) <= 1):
                return False
    return True


@SETTINGS
@given(data=st.data(), flip=st.booleans(), threshold=st.sampled_from([None, None, 0.3]))
def test_post_process_keeps_persons_finite_keypoints_and_unit_scores(data, flip, threshold):
    num_keypoints = data.draw(st.integers(1, 5))
    # left/right pairs (0, 1), (2, 3), ...: a flip permutation is its own inverse (the processor checks it)
    flip_indices = [i ^ 1 if (i ^ 1) < num_keypoints else i for i in range(num_keypoints)]
    processor = TopDownPoseImageProcessor(size={"height": 16, "width": 12}, flip_indices=flip_indices)
    per_image = [data.draw(boxes_for(40, 30, max_boxes=3)) for _ in range(data.draw(st.integers(1, 3)))]
    num_persons = sum(len(b) for b in per_image)
    outputs = data.draw(pose_outputs(num_persons, num_keypoints))
    outputs_flipped = data.draw(pose_outputs(num_persons, num_keypoints)) if flip else None
    result, error = tally.call(
        "topdown.post_process_pose_estimation",
        processor.post_process_pose_estimation,
        outputs,
        boxes=per_image,
        outputs_flipped=outputs_flipped,
        threshold=threshold,
        names=r"(outputs(_flipped)?\.(keypoints|scores|sigma)\[\d+\]\[\d+\]|boxes\[\d+\]\[\d+\])",
    )
    boxes_ok = all(box_is_valid(box, None, None) for boxes in per_image for box in boxes)
    outputs_ok = _outputs_valid(outputs) and (outputs_flipped is None or _outputs_valid(outputs_flipped))
    if error is not None:
        assert not (boxes_ok and outputs_ok), f"valid input rejected: {error}"
        return
    assert boxes_ok and outputs_ok, "invalid input accepted"
    assert [len(r) for r in result] == [len(b) for b in per_image]
    center, scale = processor.boxes_to_center_scale(np.concatenate([np.reshape(b, (-1, 4)) for b in per_image]))
    keypoints = np.asarray(outputs["keypoints"], dtype=np.float64)
    if outputs_flipped is not None:
        flipped = np.asarray(outputs_flipped["keypoints"], dtype=np.float64)[:, flip_indices]
        flipped[..., 0] = 1 - flipped[..., 0] - 1 / 12
        keypoints = (keypoints + flipped) / 2
    person = 0
    for image_result, image_boxes in zip(result, per_image):
        for entry, box in zip(image_result, image_boxes):
            np.testing.assert_array_equal(entry["bbox"], np.asarray(box, dtype=np.float32))
            scores = np.asarray(entry["scores"])
            assert scores.shape == (num_keypoints,) and np.all((scores >= 0) & (scores <= 1))
            points = np.asarray(entry["keypoints"])
            shown = np.ones(num_keypoints, bool) if threshold is None else scores >= threshold
            assert np.isfinite(points[shown]).all()
            assert np.isnan(points[~shown]).all()
            inside_unit = np.all((keypoints[person] >= 0) & (keypoints[person] <= 1), axis=-1) & shown
            low, high = center[person] - scale[person] / 2, center[person] + scale[person] / 2
            tolerance = 1e-4 * np.maximum(1.0, np.abs(scale[person]) + np.abs(center[person]))
            assert np.all(points[inside_unit] >= low - tolerance) and np.all(points[inside_unit] <= high + tolerance)
            person += 1


# -------------------------------------------------------------------------------------------------------------- EXIF

# Orientation tag -> the transpose that makes the stored grid upright (PIL's `ImageOps.exif_transpose` table) and
# its inverse, used to store an upright picture rotated / mirrored.
UPRIGHT = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
INVERSE = {**UPRIGHT, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def blocky_picture(rng, width_blocks: int, height_blocks: int) -> np.ndarray:
    """Constant 16x16 colour blocks (JPEG keeps them to a few grey levels)."""
    colours = rng.integers(0, 256, (height_blocks, width_blocks, 3)).astype(np.uint8)
    return np.kron(colours, np.ones((16, 16, 1), np.uint8))


@pytest.fixture(scope="module")
def exif_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("exif")


@settings(max_examples=tally.EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    orientation=st.integers(1, 8),
    width_blocks=st.integers(1, 4),
    height_blocks=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_exif_orientation_is_applied_by_processor_and_data_loader(
    exif_dir, orientation, width_blocks, height_blocks, seed
):
    from hfpose.data import load_image

    upright = blocky_picture(np.random.default_rng(seed), width_blocks, height_blocks)
    stored = Image.fromarray(upright)
    if INVERSE[orientation] is not None:
        stored = stored.transpose(INVERSE[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = exif_dir / f"o{orientation}_{width_blocks}x{height_blocks}_{seed}.jpg"
    stored.save(path, quality=100, subsampling=0, exif=exif.tobytes())

    height, width = upright.shape[:2]
    # padding 1 and an input of the image's own size make the standard warp the identity: the crop is the image.
    processor = TopDownPoseImageProcessor(
        size={"height": height, "width": width}, padding=1.0, do_normalize=False, do_rescale=False
    )
    result, error = tally.call(
        "topdown.preprocess(EXIF jpeg path)", processor, str(path), boxes=[[0, 0, width, height]], return_tensors="np"
    )
    assert error is None
    crop = result["pixel_values"][0].transpose(1, 2, 0)
    assert crop.shape == upright.shape  # orientations 5-8 swap the stored width and height back
    assert np.abs(crop - upright).mean() <= 4.0  # JPEG loss; a wrong orientation is off by ~80

    decoded, error = tally.call("data.load_image(EXIF jpeg path)", load_image, path)
    assert error is None and decoded.shape == upright.shape
    assert np.abs(decoded.astype(np.int16) - upright).mean() <= 4.0
