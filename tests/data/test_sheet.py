"""The contact-sheet module every picture command draws through (data/sheet.py)."""

from __future__ import annotations

import cv2
import numpy as np

from dabai.data.sheet import Mark, Tile, face_window, render_tile, write_sheet


def test_boxes_are_drawn_where_they_are_after_scaling():
    image = np.full((400, 800, 3), 255, np.uint8)  # scaled by 0.4 into a 320 x 240 tile (160 px high)
    cell = render_tile(Tile(image, [Mark((200, 100, 400, 300), (0, 0, 255))]), side=320)
    ys, xs = np.nonzero((cell[..., 2] > 200) & (cell[..., 0] < 50))
    top = (240 - 160) // 2
    assert (xs.min(), xs.max()) == (80, 160) and (ys.min(), ys.max()) == (top + 40, top + 120)


def test_window_beyond_the_image_is_grey_not_stretched():
    image = np.full((100, 100, 3), 255, np.uint8)
    cell = render_tile(Tile(image, [], ["x"], (-100.0, -50.0, 100.0, 100.0)), side=320)
    picture = cell[:240]
    assert (picture[:75, :150] == 114).all() and (picture[90:230, 170:310] == 255).all()  # 1.6 px per source px
    # a face window keeps to the photo where it can (data closeups' rule): less context, no invented border
    assert face_window((0, 0, 40, 40), 100, 100, context=5.0) == (0.0, 0.0, 100.0, 75.0)


def test_unreadable_image_keeps_its_tile_and_says_why(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    good = np.zeros((30, 40, 3), np.uint8)
    path = write_sheet([Tile(broken, [], ["broken.jpg"]), Tile(good, [], ["fine"])], tmp_path / "s.png", cols=2)
    sheet = cv2.imread(str(path))
    assert sheet.shape[1] == 640
    caption = sheet[-34:, :320]
    assert (caption < 128).any()  # the reason is written under the grey tile


def test_empty_sheet_says_so(tmp_path):
    sheet = cv2.imread(str(write_sheet([], tmp_path / "e.png", title="nothing")))
    assert sheet is not None and (sheet < 128).any()
