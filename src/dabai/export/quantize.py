"""Reduced-precision ONNX: FP16 (IO kept float32) and INT8 static QDQ quantisation with ONNX Runtime.

INT8 calibrates activation ranges on letterboxed training images. The ranges
are written beside the model (``<model>.calib.json``, ONNX Runtime's tensor-range
cache, plus ``<model>.calib.meta.json`` saying which FP32 graph, images and
method produced them) and a rebuild with the same inputs reuses them instead
of calibrating again. The prediction convs (``cls``/``reg``) and the box/score
decoding after them stay in float: 8-bit box distances would move box edges by
whole pixels. ``keep_float`` adds more nodes by name (exactly those it matches).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dabai.core.errors import ConfigError, ModelError
from dabai.export.calib import CalibrationReader, chunk_size, file_digest, images_digest, pick_images

log = logging.getLogger("dabai.export")
DEFAULT_FLOAT_LAYERS = ("*cls/Conv*", "*reg/Conv*")  # ONNX node-name globs of the prediction convs
# The layers that read the full- and half-resolution maps (stride <= 2) see nearly raw pixels. With them
# in 8 bits the shipped 384-px model lost 3.1 points of mAP@0.5 on the parity images (boxes off by 17 px).
# Measured side by side (docs/benchmarks.md): the whole stride-8 stage in float kept the accuracy at
# 1.31x the FP32 model's speed, every layer up to stride 4 at 1.49x, just the stride <= 2 readers at
# 1.81x (model only, 1 thread). Found from the graph's inferred shapes, so it holds for any backbone.
HIGH_RES_MAX_STRIDE = 2
QUANT_OPS = ["Conv", "Clip", "Relu", "Add", "Resize", "MaxPool", "AveragePool", "GlobalAveragePool"]


def to_fp16(src: str | Path, dst: str | Path) -> Path:
    """Weights and compute in float16, inputs and outputs still float32 (callers need not change)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    proto = onnx.load(str(src))
    meta = {p.key: p.value for p in proto.metadata_props}
    half = convert_float_to_float16(proto, keep_io_types=True)
    _set_meta(half, {**meta, "precision": "fp16"})
    onnx.save(half, str(dst))
    return Path(dst)


@dataclass(frozen=True)
class Int8Options:
    calib_dir: str  # images to calibrate on (training data: a dataset or a plain folder)
    calib_images: int = 200  # how many of them (a seeded random sample)
    method: Literal["minmax", "percentile", "entropy"] = "percentile"  # activation range estimator
    per_channel: bool = True  # per-output-channel weight scales (depthwise convs need them)
    keep_float: tuple[str, ...] = ()  # extra node-name globs left in float (the prediction convs always are)
    float_high_res: bool = True  # leave the layers reading stride <= 2 maps in float, see HIGH_RES_MAX_STRIDE
    seed: int = 0  # which calibration images are sampled


@dataclass
class Int8Result:
    path: Path
    cache: Path
    cache_reused: bool
    float_nodes: list[str] = field(default_factory=list)  # nodes left in float (names)
    quantized_nodes: int = 0


def quantize_int8(src: str | Path, dst: str | Path, options: Int8Options) -> Int8Result:
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    src, dst = Path(src), Path(dst)
    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
    if options.method not in methods:
        raise ConfigError(f"unknown calibration method {options.method!r}; expected one of {', '.join(methods)}")
    proto = onnx.load(str(src))
    meta = {p.key: p.value for p in proto.metadata_props}
    size = int(meta.get("input_size") or proto.graph.input[0].type.tensor_type.shape.dim[-1].dim_value)
    paths = pick_images(options.calib_dir, options.calib_images, options.seed)
    cache, reused = _prepare_cache(dst, src, paths, options)
    float_nodes = float_node_names(proto, options.keep_float)
    if options.float_high_res:
        float_nodes = sorted(set(float_nodes) | set(high_resolution_nodes(proto, HIGH_RES_MAX_STRIDE)))
    prepared = dst.with_name(dst.stem + ".prep.onnx")
    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(max(level, logging.WARNING))  # ONNX Runtime's quantiser logs every tensor on the root logger
    try:
        quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)
        # slices bound the memory: ONNX Runtime holds every activation of the images of one slice
        extra = {"CalibStridedMinMax": chunk_size(len(paths))}
        if options.method == "percentile":
            extra["CalibPercentile"] = 99.999
        with contextlib.redirect_stdout(sys.stderr):  # the calibrators print progress; keep stdout for --json
            quantize_static(
                str(prepared), str(dst), CalibrationReader(paths, size), quant_format=QuantFormat.QDQ,
                op_types_to_quantize=QUANT_OPS, per_channel=options.per_channel, reduce_range=False,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=float_nodes,
                calibrate_method=methods[options.method], extra_options=extra, calibration_cache_path=str(cache),
            )
    except (ValueError, RuntimeError, onnx.checker.ValidationError) as exc:
        raise ModelError(f"{src}: INT8 quantisation failed ({type(exc).__name__}: {exc})") from None
    finally:
        root.setLevel(level)
        prepared.unlink(missing_ok=True)
    quant = onnx.load(str(dst))
    quantized = sum(1 for n in quant.graph.node if n.op_type == "Conv" and _fed_by_dequant(quant, n))
    _set_meta(quant, {**meta, "precision": "int8", "float_layers": json.dumps(float_nodes),
                      "calibration": json.dumps({"images": len(paths), "method": options.method,
                                                 "per_channel": options.per_channel})})
    onnx.save(quant, str(dst))
    return Int8Result(dst, cache, reused, float_nodes, quantized)


def float_node_names(proto, patterns: tuple[str, ...]) -> list[str]:
    """Nodes left in float: the prediction convs and all the decoding after them, plus nodes matching ``patterns``.

    Only the prediction convs pull in what follows them (the decode tail); any other pattern keeps
    exactly the nodes it matches, so ``'/m/stages.0/*'`` keeps the first stage, not the whole network.
    """
    names = [n.name for n in proto.graph.node]
    unknown = [p for p in patterns if not any(fnmatch.fnmatch(n, p) for n in names)]
    if unknown:
        raise ConfigError(f"--keep-float {unknown} match no node of the graph; node names look like "
                          f"{', '.join(names[:4])}, …")
    seeds = [n for n in names if any(fnmatch.fnmatch(n, p) for p in DEFAULT_FLOAT_LAYERS)]
    consumers: dict[str, list] = {}
    for node in proto.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    by_name = {n.name: n for n in proto.graph.node}
    out, stack = set(), list(seeds)
    while stack:
        name = stack.pop()
        if name in out:
            continue
        out.add(name)
        for tensor in by_name[name].output:
            stack.extend(c.name for c in consumers.get(tensor, []))
    out.update(n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns))
    return sorted(out)


def high_resolution_nodes(proto, max_stride: int) -> list[str]:
    """Nodes whose first input is a 4-D map at most ``max_stride`` times smaller than the image (shape inference).

    The batch axis may be dynamic; height and width must be fixed (dabai exports them fixed).
    """
    from onnx import shape_inference

    image = proto.graph.input[0]
    dims = image.type.tensor_type.shape.dim
    height = dims[2].dim_value if len(dims) == 4 else 0
    if not height:
        log.warning("input height is not fixed; no layer is kept in float for its resolution")
        return []
    inferred = shape_inference.infer_shapes(proto)
    heights = {image.name: height}
    for info in inferred.graph.value_info:
        shape = info.type.tensor_type.shape.dim
        if len(shape) == 4 and shape[2].dim_value:
            heights[info.name] = shape[2].dim_value
    return [n.name for n in inferred.graph.node
            if n.input and heights.get(n.input[0], 0) * max_stride >= height]


def _prepare_cache(dst: Path, src: Path, paths: list[Path], options: Int8Options) -> tuple[Path, bool]:
    """The range cache beside ``dst``; kept only when graph, images and method are the same as when it was made."""
    cache = dst.with_name(dst.stem + ".calib.json")
    meta_path = dst.with_name(dst.stem + ".calib.meta.json")
    want = {"fp32_model": file_digest(src), "images": images_digest(paths), "count": len(paths),
            "method": options.method}
    if cache.is_file() and meta_path.is_file():
        try:
            have = json.loads(meta_path.read_text())
        except json.JSONDecodeError:
            have = None
        if have == want:
            log.info("reusing the calibration cache %s", cache)
            return cache, True
        log.info("calibration cache %s was made for other inputs (%s); calibrating again", cache, have)
    cache.unlink(missing_ok=True)
    meta_path.write_text(json.dumps(want, indent=2))
    return cache, False


def _fed_by_dequant(proto, node) -> bool:
    producers = {o: n for n in proto.graph.node for o in n.output}
    first = producers.get(node.input[0])
    return first is not None and first.op_type == "DequantizeLinear"


def _set_meta(proto, meta: dict) -> None:
    del proto.metadata_props[:]
    for key, value in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
