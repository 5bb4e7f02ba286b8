"""The mask painter: where each way of wearing it puts the mask, on a drawn face with known landmarks."""

from __future__ import annotations

import numpy as np
import pytest

from dabai.core.errors import DataError
from dabai.data.maskpaint import STYLES, Landmarks, MaskLook, choose_style, paint_mask

# A drawn 200-px face: eyes at y 80, nose tip at y 112, mouth at y 140 (so L = 60), chin near y 180.
EYES = [(70, 80), (130, 80)]
NOSE = (100, 112)
MOUTH = [(80, 140), (120, 140)]
BOX = (40, 30, 160, 190)
LOOK = MaskLook(kind="cloth", colour=(20, 200, 30), pattern="none", straps=False)  # green: easy to see


def _face() -> np.ndarray:
    import cv2

    img = np.full((220, 200, 3), 60, np.uint8)
    cv2.ellipse(img, (100, 110), (60, 80), 0, 0, 360, (150, 170, 200), -1)
    return img


def _landmarks() -> Landmarks:
    return Landmarks.of([*EYES, NOSE, *MOUTH])


def _changed(before: np.ndarray, after: np.ndarray, xy) -> bool:
    x, y = xy
    return bool(np.abs(before[y, x].astype(int) - after[y, x].astype(int)).max() > 25)


@pytest.mark.parametrize("style, nose, mouth, chin", [
    ("correct", True, True, True),
    ("nose", False, True, True),
    ("chin", False, False, True),
])
def test_each_style_covers_what_it_should(style, nose, mouth, chin):
    img = _face()
    out = paint_mask(img, _landmarks(), BOX, style, LOOK, np.random.default_rng(0))
    assert _changed(img, out, NOSE) is nose
    assert _changed(img, out, (100, 140)) is mouth
    assert _changed(img, out, (100, 172)) is chin  # s ≈ 1.53: the chin
    for eye in EYES:  # the eyes stay bare whatever the style
        assert not _changed(img, out, eye)
    assert not _changed(img, out, (5, 5))  # far from the face
    assert STYLES[style] in {"with_mask", "mask_weared_incorrect"}


def test_painting_keeps_its_input_and_is_seeded():
    img = _face()
    copy = img.copy()
    a = paint_mask(img, _landmarks(), BOX, "correct", MaskLook.random(np.random.default_rng(3)), np.random.default_rng(3))
    b = paint_mask(img, _landmarks(), BOX, "correct", MaskLook.random(np.random.default_rng(3)), np.random.default_rng(3))
    assert np.array_equal(img, copy)
    assert np.array_equal(a, b)


def test_a_grey_face_stays_grey():
    grey = _face()[..., 0].copy()
    black = MaskLook(kind="cloth", colour=(20, 20, 20), pattern="none", straps=False)
    out = paint_mask(grey, _landmarks(), BOX, "correct", black, np.random.default_rng(0))
    assert out.ndim == 2 and out.shape == grey.shape
    assert _changed(grey[..., None].repeat(3, 2), out[..., None].repeat(3, 2), (100, 140))
    three = np.repeat(grey[..., None], 3, axis=2)
    out3 = paint_mask(three, _landmarks(), BOX, "correct", LOOK, np.random.default_rng(0))
    assert np.array_equal(out3[..., 0], out3[..., 1]) and np.array_equal(out3[..., 1], out3[..., 2])


def test_a_turned_head_shifts_the_mask_with_the_nose():
    img = _face()
    turned = Landmarks.of([*EYES, (122, 112), *MOUTH])  # the nose towards the image's right
    out = paint_mask(img, turned, BOX, "correct", LOOK, np.random.default_rng(0))
    row = np.abs(out[150].astype(int) - img[150].astype(int)).max(axis=1) > 25
    xs = np.flatnonzero(row)
    assert (xs.min() + xs.max()) / 2 > 100  # the painted span's middle moved right of the face's middle


@pytest.mark.parametrize("values, message", [
    ([(1, 2)] * 4, "5 finite"),
    ([*EYES, NOSE, MOUTH[0], (float("nan"), 1)], "5 finite"),
])
def test_bad_landmarks_are_refused(values, message):
    with pytest.raises(DataError, match=message):
        Landmarks.of(values)


def test_implausible_faces_are_not_painted():
    assert _landmarks().plausible()
    upside_down = Landmarks.of([(130, 140), (70, 140), (100, 108), (120, 80), (80, 80)])
    assert upside_down.plausible()  # the frame follows the face: eyes→mouth is "down" whichever way it points
    nose_on_the_mouth = Landmarks.of([*EYES, (100, 141), *MOUTH])
    assert not nose_on_the_mouth.plausible()
    no_eye_gap = Landmarks.of([(100, 80), (101, 80), NOSE, *MOUTH])
    assert not no_eye_gap.plausible()


def test_an_unknown_style_names_the_known_ones():
    with pytest.raises(DataError, match="chin"):
        paint_mask(_face(), _landmarks(), BOX, "forehead", LOOK, np.random.default_rng(0))


def test_choose_style_follows_the_shares():
    rng = np.random.default_rng(0)
    assert {choose_style(rng, 0.0) for _ in range(50)} == {"correct"}
    assert {choose_style(rng, 1.0, chin=0.0) for _ in range(50)} == {"nose"}
    assert {choose_style(rng, 1.0, chin=1.0) for _ in range(50)} == {"chin"}
    picks = [choose_style(rng, 0.5, chin=0.25) for _ in range(4000)]
    assert abs(picks.count("correct") / 4000 - 0.5) < 0.03
    assert abs(picks.count("chin") / 4000 - 0.125) < 0.02
    with pytest.raises(DataError, match="0 … 1"):
        choose_style(rng, 1.5)
