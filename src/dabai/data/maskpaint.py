"""Paint a face mask on a bare face from its five landmarks: new ``with_mask`` and ``mask_weared_incorrect``
faces made from ``without_mask`` ones.

The rare class (a mask below the nose, or on the chin) has 355 + 101 labelled faces across the two VOC
sources, and a gate must judge it on faces it never saw. Bare faces are common (3,603 grey video crops alone),
so each can be given a mask as MaskTheFace and MaskedFace-Net do: a mask shaped by the face's own geometry,
worn right or worn wrong, lit by the face's own shading. The faces, lighting, cameras and skin stay real.

Geometry: the five landmarks of OpenCV's YuNet (two eyes, the nose tip, two mouth corners) give an origin
(between the eyes), a "down" axis towards the mouth (its length ``L`` is the eye–mouth distance) and an
across axis. Every pixel gets face coordinates ``s`` (down, in ``L``; the mouth is at 1) and ``t`` (across,
−1 … 1 between the cheeks, shifted and squeezed by the nose for a turned head). A mask is the region between
a top and a bottom edge in those coordinates; the three ways of wearing it (``STYLES``) move the edges:

* ``correct``: from the bridge of the nose to under the chin;
* ``nose``: the top edge under the nose tip (the common wrong way);
* ``chin``: on the chin only, nose and mouth bare.

Pure NumPy/OpenCV, seeded by the caller's ``numpy.random.Generator``; it never changes its input array.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from dabai.core.errors import DataError

# How each way of wearing it is labelled; `correct` is the only right one.
STYLES = {"correct": "with_mask", "nose": "mask_weared_incorrect", "chin": "mask_weared_incorrect"}

# (top edge at the middle, top edge at the cheeks, bottom at the middle, bottom at the cheeks), each in s (eye
# line 0, mouth 1) as (a, b): a × the nose tip's own s (read off the landmarks) + b.
_EDGES = {
    "correct": ((0.38, 0.0), (0.5, 0.12), (0.0, 1.78), (0.0, 1.12)),
    "nose": ((1.0, 0.14), (1.0, 0.18), (0.0, 1.85), (0.0, 1.2)),
    "chin": ((0.0, 1.22), (0.0, 1.12), (0.0, 1.98), (0.0, 1.35)),
}

# RGB colours of everyday masks: surgical blues and greens, white, black, greys, cloth colours.
_COLOURS = [(170, 205, 232), (160, 215, 220), (120, 170, 215), (236, 238, 240), (225, 225, 220), (30, 30, 32),
            (55, 55, 60), (140, 140, 145), (200, 160, 170), (40, 60, 110), (110, 40, 50), (70, 95, 70),
            (210, 190, 150)]
_KINDS = ("surgical", "cloth", "respirator")


@dataclass(frozen=True)
class Landmarks:
    """YuNet's five points in image pixels, in its order: the eye on the image's left, the eye on its right,
    the nose tip, the mouth corner on the image's left, the one on its right."""

    points: np.ndarray  # [5, 2] float

    @classmethod
    def of(cls, values) -> Landmarks:
        points = np.asarray(values, dtype=np.float64).reshape(-1)
        if points.size != 10 or not np.isfinite(points).all():
            raise DataError(f"face landmarks: expected 5 finite (x, y) points, got {points.size // 2}")
        return cls(points.reshape(5, 2))

    def frame(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
        """Origin (between the eyes), unit down and across axes, ``L`` (eye line to mouth) and the eye distance."""
        eyes, mouth = self.points[:2], self.points[3:]
        origin = eyes.mean(axis=0)
        down = mouth.mean(axis=0) - origin
        length = float(np.hypot(*down))
        if length < 1.0:
            raise DataError("face landmarks: the mouth sits on the eye line (not a face the painter can use)")
        down = down / length
        across = np.array([-down[1], down[0]])  # down turned a quarter: points from the image-left eye side
        if float(np.dot(eyes[1] - eyes[0], across)) < 0:
            across = -across
        return origin, down, across, length, float(np.hypot(*(eyes[1] - eyes[0])))

    def plausible(self) -> bool:
        """Eyes above the nose above the mouth (in the face's own frame), eyes apart: a face to paint on."""
        try:
            origin, down, across, length, eye_gap = self.frame()
        except DataError:
            return False
        s_nose = float(np.dot(self.points[2] - origin, down)) / length
        return 0.2 < s_nose < 0.95 and 0.4 < eye_gap / length < 2.5


@dataclass(frozen=True)
class MaskLook:
    """How one painted mask looks: its kind, colour, pattern and straps."""

    kind: str  # surgical (pleats), cloth (maybe a pattern), respirator (a middle seam)
    colour: tuple[int, int, int]  # RGB
    pattern: str  # none, stripes, dots
    straps: bool

    @classmethod
    def random(cls, rng: np.random.Generator) -> MaskLook:
        kind = _KINDS[int(rng.choice(len(_KINDS), p=[0.5, 0.35, 0.15]))]
        colour = _COLOURS[int(rng.integers(len(_COLOURS)))]
        pattern = "none" if kind != "cloth" else ("none", "stripes", "dots")[int(rng.choice(3, p=[0.6, 0.2, 0.2]))]
        return cls(kind, tuple(int(c) for c in colour), pattern, bool(rng.random() < 0.6))


def paint_mask(image_bgr: np.ndarray, landmarks: Landmarks, face_box, style: str, look: MaskLook,
               rng: np.random.Generator) -> np.ndarray:
    """A copy of ``image_bgr`` with a mask worn ``style``-wise on the face at ``landmarks``.

    ``face_box`` (x1, y1, x2, y2, the labelled face) bounds the mask's width, so a turned or loose-boxed face
    does not get a mask wider than its cheeks. A grey image (three equal channels, or one) stays grey.
    """
    if style not in STYLES:
        raise DataError(f"mask style {style!r} is not one of {sorted(STYLES)}")
    grey_input = image_bgr.ndim == 2
    image = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR) if grey_input else image_bgr.copy()
    grey = grey_input or (np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2]))
    origin, down, across, length, eye_gap = landmarks.frame()
    nose = landmarks.points[2] - origin
    s_nose = float(np.clip(np.dot(nose, down) / length, 0.3, 0.9))
    turn = float(np.clip(np.dot(nose, across) / max(eye_gap, 1.0), -0.6, 0.6))  # nose off the middle: a turned head
    x1, y1, x2, y2 = (float(v) for v in face_box)
    frontal_gap = max(eye_gap, 0.8 * length)
    half = float(np.clip(0.46 * (x2 - x1), 0.95 * frontal_gap, 1.3 * frontal_gap)) * rng.uniform(0.95, 1.08)
    half_far, half_near = half * (1 - 1.1 * abs(turn)), half * (1 + 0.5 * abs(turn))
    centre = 0.8 * float(np.dot(nose, across))

    top_c, top_s, bot_c, bot_s = (a * s_nose + b + rng.normal(0, 0.03) for a, b in _EDGES[style])
    # pixel grid around the face, in face coordinates
    reach = 2.3 * max(length, half)
    cx, cy = origin + down * length
    gx0, gy0 = int(max(0, np.floor(cx - reach))), int(max(0, np.floor(cy - reach)))
    gx1, gy1 = int(min(image.shape[1], np.ceil(cx + reach))), int(min(image.shape[0], np.ceil(cy + reach)))
    if gx1 - gx0 < 2 or gy1 - gy0 < 2:
        return image if not grey_input else image_bgr.copy()
    ys, xs = np.mgrid[gy0:gy1, gx0:gx1].astype(np.float64)
    rel_x, rel_y = xs - origin[0], ys - origin[1]
    s = (rel_x * down[0] + rel_y * down[1]) / length
    along = rel_x * across[0] + rel_y * across[1] - centre
    far_side_positive = turn > 0  # the nose points to +across: that cheek is turned away
    width_pos = half_far if far_side_positive else half_near
    width_neg = half_near if far_side_positive else half_far
    t = np.where(along >= 0, along / width_pos, along / width_neg)
    a = np.clip(np.abs(t), 0, 1)
    top = top_s + (top_c - top_s) * (1 - a ** 1.6)
    bottom = bot_s + (bot_c - bot_s) * np.sqrt(np.clip(1 - a ** 2.2, 0, 1))
    # a soft, anti-aliased edge about a pixel and a half wide (more on large faces)
    feather = max(1.0, 0.012 * length * 3)
    margin = np.minimum.reduce([(s - top) * length, (bottom - s) * length,
                                (1 - np.abs(t)) * np.where(along >= 0, width_pos, width_neg)])
    alpha = np.clip(margin / feather + 0.5, 0.0, 1.0)
    if not alpha.any():
        return image if not grey_input else image_bgr.copy()

    region = image[gy0:gy1, gx0:gx1].astype(np.float64)
    colour = np.array(look.colour[::-1], dtype=np.float64)  # RGB → BGR
    cloth = np.broadcast_to(colour, region.shape).copy()
    height = np.clip((s - top) / np.maximum(bottom - top, 1e-6), 0, 1)  # 0 at the top edge, 1 at the bottom
    if look.pattern == "stripes":
        period = rng.uniform(0.12, 0.25)
        band = (np.floor((s + t * rng.uniform(-0.5, 0.5)) / period) % 2).astype(bool)
        other = np.array(_COLOURS[int(rng.integers(len(_COLOURS)))][::-1], dtype=np.float64)
        cloth[band] = other
    elif look.pattern == "dots":
        step = rng.uniform(0.14, 0.22)
        du, dv = (s / step) % 1 - 0.5, (t * half / length / step) % 1 - 0.5
        cloth[(du ** 2 + dv ** 2) < 0.06] = np.array(_COLOURS[int(rng.integers(len(_COLOURS)))][::-1], dtype=np.float64)
    shade = 1.0 - 0.28 * a ** 2  # the cheeks turn away from the light
    if look.kind == "surgical":  # three pleats across, darker fold lines
        for k in (0.3, 0.5, 0.7):
            shade = shade - 0.12 * np.exp(-(((height - k) * (bottom - top) * length) / max(0.9, 0.02 * length)) ** 2)
    elif look.kind == "respirator":  # a seam down the middle
        shade = shade - 0.15 * np.exp(-((t * half) / max(0.8, 0.015 * length)) ** 2)
    # the face's own light: the mask is brighter where the skin under it was
    lum = cv2.GaussianBlur(cv2.cvtColor(region.astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float64), (0, 0),
                           max(1.0, 0.15 * length))
    inside = alpha > 0.5
    ref = float(np.median(lum[inside])) if inside.any() else float(lum.mean())
    light = np.clip(lum / max(ref, 1.0), 0.55, 1.35) ** 0.7
    brightness = float(np.clip(ref / 140.0, 0.45, 1.25))  # a dark photo gets a darker mask
    painted = cloth * (shade * light * brightness)[..., None]
    painted += rng.normal(0, 3.0, size=painted.shape)
    out = region * (1 - alpha[..., None]) + painted * alpha[..., None]

    if look.straps:  # a strap from each upper corner towards the ear
        strap = np.zeros(alpha.shape, np.uint8)
        width = max(1, int(round(length / 25)))
        for side in (-1, 1):
            w = width_neg if side < 0 else width_pos
            start = origin + down * (top_s * length) + across * (centre + side * 0.97 * w)
            end = origin + down * (0.25 * length) + across * (centre + side * 1.25 * w)
            cv2.line(strap, tuple(int(round(v)) for v in (start - (gx0, gy0))),
                     tuple(int(round(v)) for v in (end - (gx0, gy0))), 255, width, cv2.LINE_AA)
        strap_alpha = (strap.astype(np.float64) / 255.0) * (1 - alpha) * 0.9
        strap_colour = colour * 0.9 * brightness
        out = out * (1 - strap_alpha[..., None]) + strap_colour * strap_alpha[..., None]

    out = np.clip(out, 0, 255).astype(np.uint8)
    if grey:
        out = cv2.cvtColor(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    image[gy0:gy1, gx0:gx1] = out
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if grey_input else image


def choose_style(rng: np.random.Generator, incorrect: float, chin: float = 0.25) -> str:
    """``correct`` with probability 1 − ``incorrect``; otherwise ``nose`` or (a ``chin`` share of them) ``chin``."""
    check_shares(incorrect, chin)
    if rng.random() >= incorrect:
        return "correct"
    return "chin" if rng.random() < chin else "nose"


def check_shares(incorrect: float, chin: float) -> None:
    """The two shares ``choose_style`` draws with must be probabilities; the error names the one that is not."""
    for name, value in (("incorrect", incorrect), ("chin", chin)):
        if not 0.0 <= value <= 1.0:
            raise DataError(f"{name} share (--{name}) {value} must lie in 0 … 1")
