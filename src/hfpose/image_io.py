# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""Reading images for the image processors: any supported input → ``(H, W, 3)`` RGB.

Accepted: file paths (and URLs), PIL images, numpy arrays and torch tensors, ``(H, W)``, ``(H, W, C)`` or
``(C, H, W)`` with 1-4 channels. Alpha is dropped, grayscale is repeated to RGB, EXIF orientation is applied to files
(as OpenCV, and so MMPose, does), uint16 becomes 8-bit as ``round(x * 255 / 65535)``, bool becomes {0, 255}, and
float images must lie in [0, 1] (returned as float32 on the 0-255 scale). Every error names ``images[i]``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from transformers.image_utils import ChannelDimension

__all__ = ["as_image_list", "load_rgb_image"]


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def _to_numpy(x, name: str) -> np.ndarray:
    if _is_torch(x):
        x = x.detach().cpu()
        if x.is_floating_point():
            x = x.float()
        return x.numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numpy array or torch tensor; got {type(x).__name__}") from error


def as_image_list(images) -> tuple[list, bool]:
    """``(list of images, whether a single image was given)``."""
    if isinstance(images, (list, tuple)):
        if len(images) == 0:
            raise ValueError("images is empty")
        return list(images), False
    if (isinstance(images, np.ndarray) or _is_torch(images)) and images.ndim == 4:
        return list(images), False
    return [images], True


def load_rgb_image(image, index: int, input_data_format=None, convert_rgb: bool | None = True) -> np.ndarray:
    """Any supported image → ``(H, W, 3)`` RGB, uint8 (or float32 in ``[0, 255]`` for float input).

    With ``convert_rgb=False`` (a processor's ``do_convert_rgb=False``) nothing is converted: an image that is not
    already 3-channel RGB raises.

    Raises:
        ValueError: with ``convert_rgb=False``, an image with other than 3 channels (names ``images[i]`` and the fix).
    """
    if isinstance(image, (str, os.PathLike)):
        image = _open_image_file(image, index)
    if convert_rgb is False:
        channels = _channel_count(image, input_data_format)
        if channels != 3:
            raise ValueError(
                f"images[{index}] has {channels} channel(s) and do_convert_rgb=False; the pose models take RGB: pass "
                "do_convert_rgb=True (grayscale is repeated, alpha dropped) or a 3-channel RGB image"
            )
    if isinstance(image, Image.Image):
        if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
            array = np.asarray(image)
            if image.mode == "I" and array.size and array.max() > 255:
                array = array.astype(np.uint16)  # 16-bit PNGs decode as mode "I"
        else:
            array = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    elif isinstance(image, np.ndarray) or _is_torch(image):
        array = _to_numpy(image, f"images[{index}]")
    else:
        raise TypeError(
            f"images[{index}] has unsupported type {type(image).__name__}; expected a PIL image, a numpy array, "
            "a torch tensor or a file path"
        )
    return _to_rgb(array, index, input_data_format)


def _channel_count(image, input_data_format=None) -> int | None:
    """Channels of an image as given (PIL: its bands; arrays: as `_to_rgb` reads the layout); None if unknown."""
    if isinstance(image, Image.Image):
        return len(image.getbands())
    shape = getattr(image, "shape", None)
    if shape is None or len(shape) not in (2, 3):
        return None  # `_to_rgb` names the bad shape
    if len(shape) == 2:
        return 1
    channels_first = (
        input_data_format in (ChannelDimension.FIRST, "channels_first")
        if input_data_format is not None
        else shape[-1] not in (1, 2, 3, 4) and shape[0] in (1, 2, 3, 4)
    )
    return int(shape[0] if channels_first else shape[-1])


def _open_image_file(path, index: int) -> Image.Image:
    if isinstance(path, str) and path.startswith(("http://", "https://")):
        return _download_image(path, index)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"images[{index}]: no such image file {str(path)!r}")
    try:
        with Image.open(path) as opened:
            opened.load()
            return ImageOps.exif_transpose(opened)
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        if path.suffix.lower() in VIDEO_SUFFIXES:
            raise ValueError(
                f"images[{index}]: {str(path)!r} is a video, not an image; run it with "
                "hfpose.VideoKeypointDetection (or `hfpose predict MODEL VIDEO --output out.mp4`)"
            ) from None
        raise ValueError(f"images[{index}]: cannot decode image file {str(path)!r}: {error}") from None


VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ts")


def _download_image(url: str, index: int) -> Image.Image:
    """``transformers.image_utils.load_image(url)``, any failure (no network, offline, HTTP error) as one line.

    Raises:
        ValueError: naming ``images[index]`` and the URL, with the fix (network, or a local file path).
    """
    from transformers.image_utils import load_image

    offline = os.environ.get("HF_HUB_OFFLINE", "").upper() in ("1", "ON", "YES", "TRUE")
    try:
        return load_image(url)
    except Exception as error:  # httpx / requests / PIL errors: all mean "no image from this URL"
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        hint = " (HF_HUB_OFFLINE is set)" if offline else ""
        raise ValueError(
            f"images[{index}]: cannot download {url!r}{hint}: {type(error).__name__}: {reason}; check "
            "the network, or download the image and pass its file path"
        ) from None


def _to_rgb(array: np.ndarray, index: int, input_data_format=None) -> np.ndarray:
    if array.ndim == 3:
        channels_first = (
            input_data_format in (ChannelDimension.FIRST, "channels_first")
            if input_data_format is not None
            else array.shape[-1] not in (1, 2, 3, 4) and array.shape[0] in (1, 2, 3, 4)
        )
        if channels_first:
            array = np.moveaxis(array, 0, -1)
    elif array.ndim == 2:
        array = array[..., None]
    else:
        raise ValueError(f"images[{index}] must be (H, W) or (H, W, C); got shape {array.shape}")
    if array.shape[-1] not in (1, 2, 3, 4) or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"images[{index}] must have 1-4 channels and a non-empty size; got shape {array.shape}")
    array = array[..., :1] if array.shape[-1] in (1, 2) else array[..., :3]  # drop alpha
    array = _to_8bit_range(array, index)
    if array.shape[-1] == 1:
        array = np.repeat(array, 3, axis=-1)
    return np.ascontiguousarray(array)


def _to_8bit_range(array: np.ndarray, index: int) -> np.ndarray:
    """uint8 as is; uint16 → ``round(x * 255 / 65535)``; bool → {0, 255}; floats in [0, 1] → float32 × 255."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return ((array.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"images[{index}] has non-finite values")
        if array.min() < 0 or array.max() > 1:
            raise ValueError(
                f"images[{index}] is a float image with values in [{array.min()}, {array.max()}]; float images must "
                "lie in [0, 1] (pass 0-255 images as uint8)"
            )
        return array.astype(np.float32) * np.float32(255)
    if np.issubdtype(array.dtype, np.integer):
        if array.min() < 0 or array.max() > 255:
            raise ValueError(
                f"images[{index}] has dtype {array.dtype} with values outside [0, 255]; use uint8, uint16 or floats "
                "in [0, 1]"
            )
        return array.astype(np.uint8)
    raise TypeError(f"images[{index}] has unsupported dtype {array.dtype}")
