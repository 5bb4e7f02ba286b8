"""Score the off-the-shelf UltraFace RFB-640 masked-face detector on labelled folders, as `dabai eval` scores
dabai's models (conf 0, <= 100 detections per image, pycocotools), in the two views it can be scored in:
mask_ok vs not_ok (its 'masked_face' against 'face') and faces found.

    python scripts/eval_reference.py ../shared/weights/ultraface-rfb-640-masked-face.onnx data/splits/*/test
"""

from __future__ import annotations

import argparse

from dabai.bench.reference import UltraFaceMasked
from dabai.eval.api import read_eval_data
from dabai.eval.views import score_by_source


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("data", nargs="+")
    args = p.parse_args()
    ref = UltraFaceMasked(args.model, threads=1, conf=0.01)
    dataset = read_eval_data(args.data)
    detections = {im.name: sorted(ref(im.path), key=lambda d: -d.score)[:100] for im in dataset.images}
    classes = ["with_mask", "without_mask", "mask_weared_incorrect"]
    table = score_by_source(dataset, detections, classes)
    print("UltraFace RFB-640 masked-face (2 classes: its 3-class and incorrect columns are not meaningful)")
    print(table.render())


if __name__ == "__main__":
    main()
