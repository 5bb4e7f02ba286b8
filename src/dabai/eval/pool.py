"""A model over many images on several processes, behind one progress bar (with its ETA).

The checker's per-image work is mostly single-threaded Python and small ONNX calls (decode, letterbox,
the detector, a crop per face, the crop classifier, NMS), so one process with ONNX Runtime on both cores
leaves a core idle much of the time. Here each worker process loads the model from its file once, with
``threads`` ONNX Runtime threads (default 1), and predicts batches of ``batch_size`` images; the parent
collects them in the images' order. Each worker gives the same detections one process would: the same
model, settings and code run on each image on its own::

    from dabai.eval.pool import predict_records
    dets = predict_records("mask_checker.json", detector.options, dataset.images, workers=2)
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from dabai.data.dataset import ImageRecord
from dabai.runtime.types import Detection

MAX_DEFAULT_WORKERS = 8  # each worker holds its own copy of the model (~250 MB with the checker)

_detector = None  # the worker process's model (set by _start)


def default_workers() -> int:
    """One worker per core this process may use, at most ``MAX_DEFAULT_WORKERS``."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MAX_DEFAULT_WORKERS, cores))


def _start(model: str, options: dict, threads: int | None, second_look: bool = True) -> None:
    global _detector
    from dabai.runtime.detector import Detector

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _detector = Detector.load(model, threads=threads, second_look=second_look).with_options(**options)


def _predict(paths: list[str]) -> list[list[Detection]]:
    return _detector.detect_batch(paths)


def predict_records(model: str | Path | None, options, records: Sequence[ImageRecord], workers: int,
                    batch_size: int = 8, progress: bool = True, threads: int | None = 1,
                    desc: str = "predict", second_look: bool = True) -> dict[str, list[Detection]]:
    """Detections by image name of ``model`` (a path or shipped name; None: the default) under the
    post-processing ``options`` (a ``PostprocessOptions``), on ``workers`` processes (``second_look``: as
    ``Detector.load`` takes it)."""
    from dabai.runtime.backends import resolve_model
    from dabai.runtime.detector import default_model_path

    path = str(resolve_model(model or default_model_path()))
    chunks = [list(records[i:i + batch_size]) for i in range(0, len(records), batch_size)]
    out: dict[str, list[Detection]] = {}
    bar = tqdm(total=len(records), desc=desc, unit="img", disable=not progress, leave=False)
    # spawn, not fork: the parent may hold ONNX Runtime's thread pool, which a forked child cannot use
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max(1, min(workers, len(chunks))), mp_context=context, initializer=_start,
                             initargs=(path, asdict(options), threads, second_look)) as pool:
        try:
            futures = {pool.submit(_predict, [str(r.path) for r in chunk]): chunk for chunk in chunks}
            for future in as_completed(futures):
                chunk = futures[future]
                for record, dets in zip(chunk, future.result()):
                    out[record.name] = dets
                bar.update(len(chunk))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            bar.close()
    return {r.name: out[r.name] for r in records}
