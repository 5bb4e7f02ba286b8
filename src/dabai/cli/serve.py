"""``dabai serve``: the mask detector as an HTTP service (FastAPI + uvicorn)."""

from __future__ import annotations

from dabai.cli.common import add_command

EXAMPLES = """\
  dabai serve                                              # shipped model on http://127.0.0.1:8000
  dabai serve --model int8 --port 8080                      # the shipped INT8 export
  dabai serve --model int8 --workers 2 --threads 1 --batch 1     # processes instead of batching
  DABAI_API_KEY=secret dabai serve --host 0.0.0.0          # key required for /v1/detect and /metrics
  curl -F file=@visitor.jpg http://127.0.0.1:8000/v1/detect
  curl http://127.0.0.1:8000/healthz ; curl http://127.0.0.1:8000/metrics
"""


def register(sub) -> None:
    p = add_command(sub, "serve", run, "serve the detector over HTTP: /v1/detect, /healthz, /metrics", EXAMPLES)
    p.add_argument("--model", help="model file (.onnx, .pt, .engine); default: the shipped model")
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1; 0.0.0.0 for the network)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    p.add_argument("--threads", type=int, default=2, help="inference threads per process (default 2)")
    p.add_argument("--batch", type=int, default=4, help="micro-batch up to this many concurrent requests (default 4; 1: off); "
                                                   "1 process x 2 threads x batch 4 measured fastest on 2 cores")
    p.add_argument("--batch-wait-ms", type=float, default=3.0, help="how long a micro-batch waits for more requests")
    p.add_argument("--api-key", help="require this key (Authorization: Bearer KEY or X-API-Key); visible to other "
                                     "users in `ps`: prefer --api-key-file or $DABAI_API_KEY")
    p.add_argument("--api-key-file", metavar="FILE", help="read the API key from the first line of FILE (chmod 600)")
    p.add_argument("--max-bytes", type=int, default=8 * 1024 * 1024, help="largest request body in bytes (413 above)")
    p.add_argument("--max-pixels", type=int, default=40_000_000, help="largest image, width x height (413 above)")
    p.add_argument("--memory-budget-mb", type=int, default=384,
                   help="memory all concurrent image decodes may use together; more waits, then 429 (default 384)")
    p.add_argument("--conf", type=float, default=0.3, help="minimum score of returned detections")
    p.add_argument("--iou", type=float, default=0.5, help="NMS IoU threshold")


def run(args) -> int:
    from dabai.serve.options import ServeOptions, resolve_api_key
    from dabai.serve.server import serve

    serve(ServeOptions(model=args.model, host=args.host, port=args.port, workers=args.workers, threads=args.threads,
                       api_key=resolve_api_key(args.api_key, args.api_key_file), max_bytes=args.max_bytes,
                       max_pixels=args.max_pixels, memory_budget_mb=args.memory_budget_mb,
                       conf=args.conf, iou=args.iou, batch=args.batch, batch_wait_ms=args.batch_wait_ms))
    return 0
