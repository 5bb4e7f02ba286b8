"""The detection web service (FastAPI): ``POST /v1/detect``, ``GET /healthz``, ``GET /metrics``.

    curl -F file=@visitor.jpg http://127.0.0.1:8000/v1/detect

answers ``{"image": "visitor.jpg", "detections": [{"image", "bbox", "score",
"label"}, ...], "model": ..., "inference_ms": ...}``, the detections being the
entries ``dabai predict --json`` writes. Anything that is not a decodable image
is a 400 with a message, an oversized body or image a 413, a missing or wrong
API key a 401, an upload that waited too long for the server-wide decode memory
budget (``dabai.serve.budget``) a 429; only a fault of the service itself is a 500.
"""


import logging
import time

from dabai import __version__
from dabai.core.errors import DataError, require
from dabai.core.images import declared_size
from dabai.serve.budget import Busy, MemoryBudget, OverBudget, decode_cost
from dabai.serve.guard import Guard
from dabai.serve.heap import return_large_blocks_to_os
from dabai.serve.inference import ImageTooLarge, Inference, decode_checked
from dabai.serve.metrics import Metrics
from dabai.serve.options import ServeOptions

log = logging.getLogger("dabai.serve")


def create_app(options: ServeOptions, detector=None):
    """The ASGI app; ``detector`` defaults to ``Detector.load(options.model)``."""
    require("fastapi", "serve")
    from fastapi import FastAPI, File, Request, UploadFile
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response

    from dabai.runtime.detector import Detector

    options.check()
    return_large_blocks_to_os()  # decoded uploads are mmapped and unmapped on free (serve/heap.py)
    if detector is None:
        detector = Detector.load(options.model, threads=options.threads, conf=options.conf, iou=options.iou)
    metrics = Metrics()
    inference = Inference(detector, options.threads, options.batch, options.batch_wait_ms, metrics)
    budget = MemoryBudget(options.memory_budget_mb * 2**20, options.busy_wait_s)
    model_name = str(options.model or "default")
    app = FastAPI(title="Dabai mask detector", version=__version__, docs_url=None, redoc_url=None)
    app.state.budget = budget

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors())
        return JSONResponse({"error": f"expected a multipart/form-data upload with the image in the field 'file' "
                                      f"(problem with: {fields or 'the body'})"}, status_code=400)

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok", "model": model_name, "classes": detector.classes, "input_size": detector.input_size,
                "version": __version__}

    @app.get("/metrics")
    async def metrics_endpoint():
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.post("/v1/detect")
    async def detect(file: UploadFile = File(...)):
        name = file.filename or "upload"
        data = await file.read()
        try:
            if not data:
                raise DataError("the upload is empty; send a JPEG, PNG, BMP or WebP image")
            width, height = declared_size(data, max_pixels=options.max_pixels)  # the header only
            async with budget.claim(decode_cost(width, height, len(data))):  # server-wide, before decoding
                image = await _decode(data, options.max_pixels)
                del data
                start = time.perf_counter()
                dets = await inference.detect(image)
                del image
        except (ImageTooLarge, OverBudget) as exc:
            return JSONResponse({"error": str(exc), "image": name}, status_code=413)
        except Busy as exc:
            return JSONResponse({"error": str(exc), "image": name}, status_code=429, headers={"Retry-After": "5"})
        except DataError as exc:
            return JSONResponse({"error": str(exc), "image": name}, status_code=400)
        return {"image": name, "detections": [d.to_json(image=name) for d in dets], "model": model_name,
                "inference_ms": round((time.perf_counter() - start) * 1000, 2)}

    return Guard(app, metrics, options.api_key, options.max_bytes)


async def _decode(data: bytes, max_pixels: int):
    import anyio

    return await anyio.to_thread.run_sync(decode_checked, data, max_pixels)


def app_from_env():
    """uvicorn factory for worker processes: options from $DABAI_SERVE_OPTIONS."""
    return create_app(ServeOptions.from_env())
