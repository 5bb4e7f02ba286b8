#!/bin/sh
# Train the default mask checker from the committed specs, end to end, and time every step:
#   splits of the three VOC sources → masks painted on their training splits' bare faces and on the grey crops
#   (`dabai data paint-masks`) → stage 1 (configs/mask_detector.yaml) → stage 2 (configs/mask_classifier.yaml)
#   → the face finder (configs/face_finder.yaml, UltraFace RFB-640 masked-face fine-tuned)
#   → FP32 + INT8 checker manifests (scripts/build_mask_checker.py).
#
#   make train-default                      # or: sh scripts/train_default.sh [OUT]
#
# Run from the repo root with the venv's python on PATH (or PYTHON=...). The data comes from
# ../shared/data (DABAI_SHARED overrides); splits go to data/splits (as the specs expect), runs to
# runs/train, painted faces to data/painted, the checker to OUT (default runs/default-checker). Nothing in src/ is touched: compare
# the result with the shipped one by `dabai eval --model OUT/mask_checker.int8.json --data ...`.
# OUT/times.tsv holds wall and CPU seconds per step (GNU time); the total is the figure that
# docs/benchmarks.md ("Training time") compares with the 90-minute target.
set -eu
SHARED=${DABAI_SHARED:-../shared}
OUT=${1:-runs/default-checker}
PY=${PYTHON:-python}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "train_default: needs GNU time at $TIME (apt-get install time)" >&2; exit 2; }
for src in face-mask face-mask-ilc2021 face-mask-macwin face-mask-crops; do
    [ -d "$SHARED/data/$src" ] || { echo "train_default: $SHARED/data/$src not found (set DABAI_SHARED)" >&2; exit 2; }
done
YUNET="$SHARED/weights/face_detection_yunet.onnx"
ULTRAFACE="$SHARED/weights/ultraface-rfb-640-masked-face.onnx"
for f in "$YUNET" "$ULTRAFACE"; do
    [ -f "$f" ] || { echo "train_default: $f not found (set DABAI_SHARED)" >&2; exit 2; }
done
mkdir -p "$OUT"
printf 'step\twall_s\tcpu_s\tmax_rss_kb\n' > "$OUT/times.tsv"

step() {   # step NAME COMMAND...: run it under GNU time, append one row to times.tsv
    name=$1; shift
    echo "== $name: $*"
    "$TIME" -f "$name\t%e\t%U+%S\t%M" -a -o "$OUT/times.raw" "$@"
}

step split-face-mask $PY -m dabai data split "$SHARED/data/face-mask" --out data/splits/face-mask --val 0.15 --test 0.15 --seed 0
step split-ilc2021 $PY -m dabai data split "$SHARED/data/face-mask-ilc2021" --out data/splits/ilc2021 --val 0.15 --test 0.2 --seed 0
step split-macwin $PY -m dabai data split "$SHARED/data/face-mask-macwin" --out data/splits/macwin --val 0.15 --test 0.2 --seed 0
step paint-face-mask $PY -m dabai data paint-masks data/splits/face-mask/train --out data/painted/face-mask-train --face-model "$YUNET" --min-face 16
step paint-ilc2021 $PY -m dabai data paint-masks data/splits/ilc2021/train --out data/painted/ilc2021-train --face-model "$YUNET" --min-face 16
step paint-macwin $PY -m dabai data paint-masks data/splits/macwin/train --out data/painted/macwin-train --face-model "$YUNET"
step paint-crops $PY -m dabai data paint-masks "$SHARED/data/face-mask-crops" --out data/painted/crops-grey --face-model "$YUNET"
step train-detector $PY -m dabai train configs/mask_detector.yaml --name default-detector
step train-classifier $PY -m dabai train configs/mask_classifier.yaml --name default-classifier
step train-finder $PY -m dabai train configs/face_finder.yaml --name default-finder --set "pretrained=$ULTRAFACE"
step build-checker $PY scripts/build_mask_checker.py \
    --detector runs/train/default-detector/last.onnx --classifier runs/train/default-classifier/classifier.onnx \
    --calib data/splits/face-mask/train data/splits/ilc2021/train --parity-data data/splits/ilc2021/val \
    --classifier-weight 1.0 --tiles 2 --tile-trigger 0.3 --tile-where unsure --flip 0.5 \
    --face-finder runs/train/default-finder/face_finder.onnx --out "$OUT"

# GNU time prints "U+S" for CPU; sum it so the table has one number per step and a total.
awk -F'\t' 'NF==4 { split($3, c, "+"); cpu = c[1] + c[2]; wall += $2; total += cpu;
                     printf "%s\t%s\t%.1f\t%s\n", $1, $2, cpu, $4 }
            END { printf "total\t%.1f\t%.1f\t-\n", wall, total }' "$OUT/times.raw" >> "$OUT/times.tsv"
rm -f "$OUT/times.raw"
column -t -s "$(printf '\t')" "$OUT/times.tsv"
