"""Training data (train/data.py): the augmentations wired in, seeded per (seed, epoch, image)."""

from __future__ import annotations

import numpy as np

from dabai.data.formats import read_dataset
from dabai.train.data import DetectionData
from dabai.train.spec import AugmentSpec

CLASSES = ["with_mask", "without_mask", "mask_weared_incorrect"]
RARE = CLASSES.index("mask_weared_incorrect")
OFF = dict(hflip=0, affine_p=0, zoom_face=0, color=0, blur=0, jpeg=0, gray=0)


def test_training_data_gains_rare_faces(tiny_data):
    dataset = read_dataset(tiny_data / "train")
    plain = AugmentSpec(**OFF)
    pasting = AugmentSpec(copy_paste=1.0, copy_paste_classes=("mask_weared_incorrect",), copy_paste_max=3,
                          copy_paste_scale=(0.8, 1.0), **OFF)

    def rare_count(spec):
        data = DetectionData(dataset, CLASSES, 96, spec, seed=0)
        return sum(int((data[i][1][:, 4] == RARE).sum()) for i in range(len(data)))

    assert rare_count(pasting) > rare_count(plain) + len(dataset.images) // 2


def test_mosaic_in_training_data_mixes_images(tiny_data):
    dataset = read_dataset(tiny_data / "train")
    plain = DetectionData(dataset, CLASSES, 96, AugmentSpec(**OFF), seed=0)
    mixed = DetectionData(dataset, CLASSES, 96, AugmentSpec(mosaic=1.0, **OFF), seed=0)
    # the mosaic draws three more images into each one: over the set, more faces per image
    assert sum(len(mixed[i][1]) for i in range(16)) > sum(len(plain[i][1]) for i in range(16))
    again = DetectionData(dataset, CLASSES, 96, AugmentSpec(mosaic=1.0, **OFF), seed=0)
    assert np.array_equal(mixed[3][0].numpy(), again[3][0].numpy()), "seeded like every augmentation"
