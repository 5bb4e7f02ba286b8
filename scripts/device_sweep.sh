#!/bin/bash
# How the GPU comparison runs in docs/detector.md were made (the session's lent H100, via the
# workplace's device tool; not needed to train the shipped model, which `dabai train` trains on a CPU).
# The device machine has PyTorch but no albumentations/pycocotools and no network, so the command
# carries (in an ignored folder .dev/): wheels for the missing packages (pip download --python-version 3.12),
# the split's train/val folders and the ImageNet MobileNetV2 file. Each line of .dev/experiments.txt is
#   NAME key=value ...      (spec overrides on top of configs/mask_detector.yaml)
# and the runs go side by side on the one GPU (16 cores shared by their data workers).
# Run with:  LIMIT=530 bash scripts/device_sweep.sh     (the device copies the repo, .dev carried)
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .dev/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv
python3 -c "import torch, torchvision, albumentations, pycocotools; print(torch.__version__, torchvision.__version__, albumentations.__version__)" || exit 1
rm -rf /tmp/runs /tmp/pack
LIMIT=${LIMIT:-520}
COMMON="data.train=.dev/split/train data.val=.dev/split/val data.workers=6 threads=2 model.pretrained=.dev/weights/mobilenet_v2-b0353104.pth export_onnx=false"
i=0
while read -r name args; do
  [ -z "$name" ] && continue
  sets=""; for kv in $COMMON $args; do sets="$sets --set $kv"; done
  timeout $LIMIT python3 -m dabai train configs/mask_detector.yaml --device cuda --out /tmp/runs --name $name $sets > /tmp/$name.log 2>&1 &
done < .dev/experiments.txt
wait
mkdir -p /tmp/pack
for d in /tmp/runs/*; do
  n=$(basename $d); cp $d/metrics.csv /tmp/pack/$n.metrics.csv; cp /tmp/$n.log /tmp/pack/$n.log 2>/dev/null
  tail -c 3000 /tmp/$n.log | tr '\r' '\n' | tail -4
  python3 - "$d" "$OUT/$n.pt" <<'PY'
import sys, torch
p = torch.load(sys.argv[1] + "/checkpoints/best.pt", map_location="cpu", weights_only=False)
keep = {k: p[k] for k in ("model", "model_name", "classes", "input_size", "module", "epoch", "best_map", "spec")}
torch.save(keep, sys.argv[2]); print(sys.argv[1], "best epoch", p["epoch"] + 1, "val mAP50", round(p["best_map"], 4))
PY
done
tar czf $OUT/logs.tar.gz -C /tmp/pack .
for f in /tmp/pack/*.csv; do echo "== $f"; cut -d, -f1,6,7,9-11 $f | tail -n 6; done
