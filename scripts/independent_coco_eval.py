"""Score a `dabai predict --out-json FILE --conf 0` file with faster-coco-eval, independently of dabai's code.

Usage: python scripts/independent_coco_eval.py GT_COCO.json PREDS.json
GT_COCO.json comes from `dabai data convert DIR --to coco`; only the JSON files are read here.
"""

import json
import sys

from faster_coco_eval import COCO, COCOeval_faster


def main(gt_path: str, preds_path: str) -> None:
    gt = COCO(gt_path)
    ids = {im["file_name"].split("/")[-1]: im["id"] for im in gt.dataset["images"]}
    cats = {c["name"]: c["id"] for c in gt.dataset["categories"]}
    preds = json.load(open(preds_path))
    per_image: dict[int, list] = {}
    for p in preds:
        x1, y1, x2, y2 = p["bbox"]
        per_image.setdefault(ids[p["image"].split("/")[-1]], []).append(
            {"image_id": ids[p["image"].split("/")[-1]], "category_id": cats[p["label"]],
             "bbox": [x1, y1, x2 - x1, y2 - y1], "score": p["score"]})
    results = [r for rs in per_image.values() for r in sorted(rs, key=lambda r: -r["score"])[:100]]
    dt = gt.loadRes(results)
    ev = COCOeval_faster(gt, dt, "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    prec = ev.eval["precision"]
    ap50 = {}
    for k, cat_id in enumerate(ev.params.catIds):
        p = prec[0, :, k, 0, -1]
        name = next(c["name"] for c in gt.dataset["categories"] if c["id"] == cat_id)
        ap50[name] = round(float(p[p > -1].mean()), 4)
    print(json.dumps({"map50": round(float(ev.stats[1]), 4), "map50_95": round(float(ev.stats[0]), 4), "ap50": ap50}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
