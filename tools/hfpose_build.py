# Copyright 2026 The hfpose authors. Licensed under the Apache License, Version 2.0.
"""PEP 517 backend: setuptools' own, run on a temporary copy of the source tree for wheels and sdists.

setuptools builds in the source folder (``build/``, ``*.egg-info``); `pip wheel .` or `pip install .` would leave
those behind in the checkout. Here every hook except the editable ones copies the tree (without VCS, virtual
environment, output and cache folders) into a temporary folder, runs setuptools there and removes the copy. Editable
installs (`pip install -e .`) must point at this checkout, so they run setuptools in place as usual.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from setuptools import build_meta as _setuptools

_SKIP = {
    ".git",
    ".venv",
    ".venv-latest",
    "outputs",
    "build",
    "dist",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    ".whl",
    ".gl",
}

# Editable hooks: in place (the editable finder must point at this checkout).
build_editable = _setuptools.build_editable
get_requires_for_build_editable = _setuptools.get_requires_for_build_editable
prepare_metadata_for_build_editable = _setuptools.prepare_metadata_for_build_editable


def _ignore(folder, names):
    return [name for name in names if name in _SKIP or name.endswith(".egg-info")]


@contextlib.contextmanager
def _in_copy():
    source = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="hfpose-build-") as scratch:
        copy = Path(scratch) / "src-tree"
        shutil.copytree(source, copy, symlinks=True, ignore=_ignore)
        os.chdir(copy)
        try:
            yield
        finally:
            os.chdir(source)


def _absolute(path):
    return None if path is None else os.path.abspath(path)


def get_requires_for_build_wheel(config_settings=None):
    with _in_copy():
        return _setuptools.get_requires_for_build_wheel(config_settings)


def get_requires_for_build_sdist(config_settings=None):
    with _in_copy():
        return _setuptools.get_requires_for_build_sdist(config_settings)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    metadata_directory = _absolute(metadata_directory)
    with _in_copy():
        return _setuptools.prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    wheel_directory, metadata_directory = _absolute(wheel_directory), _absolute(metadata_directory)
    with _in_copy():
        return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_sdist(sdist_directory, config_settings=None):
    sdist_directory = _absolute(sdist_directory)
    with _in_copy():
        return _setuptools.build_sdist(sdist_directory, config_settings)
