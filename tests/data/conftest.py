"""Fixtures for the data tests: one generated sample dataset per session, copied per test."""

from __future__ import annotations

import shutil

import pytest

from dabai.data.synth import make_sample_dataset

SAMPLE_CLASSES = "with_mask,without_mask,mask_weared_incorrect"


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """A 24-image VOC sample (read-only: tests that change data use ``sample_copy``)."""
    root = tmp_path_factory.mktemp("sample") / "voc"
    make_sample_dataset(root, n_images=24, seed=3)
    return root


@pytest.fixture
def sample_copy(sample_dir, tmp_path):
    target = tmp_path / "voc"
    shutil.copytree(sample_dir, target)
    return target


@pytest.fixture
def face_mask_copy(face_mask_dir, tmp_path):
    target = tmp_path / "face-mask"
    shutil.copytree(face_mask_dir, target)
    return target
