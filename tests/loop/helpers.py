"""Tiny generated data for the loop's tests: face crops in class folders and photos, cut from the astronaut
sample photo (scikit-image, public domain) that the demo uses, with a mask drawn on where needed."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dabai.gate.demo_faces import astronaut, draw_mask


def face_crop(image: np.ndarray, box, side: int, dx: int = 0, dy: int = 0, out: int = 64, gray: bool = True) -> np.ndarray:
    x, y, w, h = box
    cx, cy = x + w // 2 + dx, y + h // 2 + dy
    crop = image[max(0, cy - side // 2):cy + side // 2, max(0, cx - side // 2):cx + side // 2]
    crop = cv2.resize(crop, (out, out), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR) if gray else crop


def write(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)
    return path


def make_crop_folders(root: Path) -> Path:
    """with_mask/ (2), without_mask/ (2 faces + a blank grey crop), mask_weared_incorrect/ (1): 64x64 grey."""
    img, box = astronaut()
    variants = {"with_mask": draw_mask(img, box), "without_mask": img,
                "mask_weared_incorrect": draw_mask(img, box, below_nose=True)}
    for label, source in variants.items():
        for k, (side, dx) in enumerate([(150, 0), (130, 6)][: 1 if label == "mask_weared_incorrect" else 2]):
            write(root / label / f"{label[:4]}{k}.jpg", face_crop(source, box, side, dx))
    write(root / "without_mask" / "blank.jpg", np.full((64, 64, 3), 128, np.uint8))
    return root


def make_photos(root: Path) -> Path:
    """The astronaut with and without a mask (one face each), at 320 px."""
    img, box = astronaut()
    write(root / "bare.jpg", cv2.resize(img, (320, 320)))
    write(root / "masked.jpg", cv2.resize(draw_mask(img, box), (320, 320)))
    return root


def mining_pool(root: Path, easy_rounds: int = 8, hard_rounds: int = 2, seed: int = 2) -> tuple[Path, set[str]]:
    """A pool of easy frames (the astronaut bare or masked, tight crops the checker is sure of; plain walls)
    with planted hard cases (mask below the nose, half the face hidden, heavy blur). Returns the folder and
    the names of the hard ones."""
    img, box = astronaut()
    masked, below = draw_mask(img, box), draw_mask(img, box, below_nose=True)
    rng = np.random.default_rng(seed)

    def crop(src, side, dx, dy):
        x, y, w, h = box
        cx, cy = x + w // 2 + dx, y + h // 2 + dy
        return cv2.resize(src[cy - side // 2:cy + side // 2, cx - side // 2:cx + side // 2], (192, 192))

    def place():
        return int(rng.integers(150, 200)), *(int(v) for v in rng.integers(-15, 15, 2))

    for k in range(easy_rounds):
        where = place()
        write(root / f"easy_bare_{k}.jpg", crop(img, *where))
        write(root / f"easy_masked_{k}.jpg", crop(masked, *where))
        write(root / f"easy_wall_{k}.jpg", np.full((192, 192, 3), rng.integers(0, 255, 3), np.uint8))
    hard = set()
    for k in range(hard_rounds):
        where = place()
        half = crop(img, *where)
        half[:, 96:] = 70
        for name, image in ((f"hard_below_nose_{k}.jpg", crop(below, *where)), (f"hard_half_hidden_{k}.jpg", half),
                            (f"hard_blurred_{k}.jpg", cv2.GaussianBlur(crop(img, *where), (0, 0), 5))):
            write(root / name, image)
            hard.add(name)
    return root, hard
