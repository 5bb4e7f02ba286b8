"""``dabai export``: a checkpoint (or an FP32 ONNX file) to ONNX FP32/FP16/INT8, a TensorRT engine or a Triton repository.

Every export checks itself with ``dabai parity``: the FP32 ONNX against the
PyTorch checkpoint, then the reduced-precision model against that FP32 ONNX.
A candidate beyond tolerance is not written to ``out``: it is moved aside to
``<out>.rejected<suffix>`` with its parity report, and the export fails.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dabai.core.errors import ConfigError, ModelError
from dabai.export.parity import ParityError, ParityOptions, ParityReport, Tolerances, run_parity
from dabai.export.quantize import Int8Options, quantize_int8, to_fp16
from dabai.runtime.backends import resolve_model

log = logging.getLogger("dabai.export")


@dataclass(frozen=True)
class ExportOptions:
    model: str  # dabai checkpoint (.pt) or an FP32 ONNX file exported by dabai
    out: str  # output file (.onnx / .engine) or, for triton, the repository folder
    format: Literal["onnx", "engine", "triton"] = "onnx"
    precision: Literal["fp32", "fp16", "int8"] = "fp32"
    calib: str | None = None  # INT8 calibration images (the training data)
    calib_images: int = 200  # how many calibration images
    calib_method: Literal["minmax", "percentile", "entropy"] = "percentile"
    keep_float: tuple[str, ...] = ()  # INT8: extra ONNX node-name globs kept in float (prediction convs always are)
    int8_high_res: bool = False  # INT8: quantise the layers reading stride-1/2 maps too (faster, less accurate; float by default)
    parity: bool = True  # check the result against its reference and refuse a broken one
    parity_data: str | None = None  # images for parity (a labelled set adds the mAP delta); default: calib
    parity_images: int = 64
    tolerances: Tolerances | None = None  # None: the defaults of the precision
    # Square input side of the export when it should differ from the trained one (checkpoints only):
    # the detector is fully convolutional, and a larger side finds smaller faces at a quadratic cost.
    input_size: int | None = None
    triton_name: str = "mask_detector"  # model name inside a Triton repository
    triton_max_batch: int = 16


@dataclass
class ExportResult:
    path: Path
    precision: str
    parity: list[ParityReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"path": str(self.path), "precision": self.precision, "notes": self.notes,
                "parity": [p.to_json() for p in self.parity]}


def check_options(o: ExportOptions) -> None:
    if o.precision not in ("fp32", "fp16", "int8"):
        raise ConfigError(f"--precision must be fp32, fp16 or int8, got {o.precision!r}")
    if o.precision == "int8" and not o.calib:
        raise ConfigError("--precision int8 needs --calib DIR (training images to calibrate the activation ranges)")
    suffix = {"onnx": ".onnx", "engine": (".engine", ".plan")}.get(o.format)
    if suffix and not str(o.out).endswith(suffix):
        raise ConfigError(f"--out {o.out}: a --format {o.format} export is named *{suffix if isinstance(suffix, str) else '.engine'}")
    model = resolve_model(o.model)
    if not model.is_file():
        raise ModelError(f"model not found: {o.model}")
    if model.suffix.lower() not in (".pt", ".pth", ".onnx"):
        raise ConfigError(f"--model {o.model}: expected a dabai checkpoint (.pt) or an FP32 ONNX file")
    if o.input_size is not None and model.suffix.lower() == ".onnx":
        raise ConfigError(f"--input-size: {o.model} is an ONNX file with a fixed input; export the .pt checkpoint instead")


def export_model(options: ExportOptions) -> ExportResult:
    check_options(options)
    out = Path(options.out)
    if options.format == "engine":
        from dabai.runtime.tensorrt import check_tensorrt

        check_tensorrt()  # before any work: say plainly why an engine cannot be built here
    with tempfile.TemporaryDirectory(prefix="dabai-export-") as tmp:
        tmp = Path(tmp)
        onnx_out = out if options.format == "onnx" else tmp / "model.onnx"
        result = export_onnx_precision(options, onnx_out, tmp)
        if options.format == "engine":
            from dabai.export.tensorrt import build_engine

            engine = build_engine(onnx_out, out, options.precision)
            result = ExportResult(engine, options.precision, result.parity, result.notes)
            if options.parity:
                _gate(run_parity(onnx_out, engine, _parity_options(options, "fp16" if options.precision == "fp32" else options.precision)), engine)
        elif options.format == "triton":
            from dabai.export.triton import write_triton_repository

            repo = write_triton_repository(onnx_out, out, options.triton_name, options.triton_max_batch)
            result = ExportResult(repo, options.precision, result.parity, result.notes)
    return result


def export_onnx_precision(options: ExportOptions, out: Path, tmp: Path) -> ExportResult:
    """The ONNX file at ``out`` in the asked precision, each step checked by parity."""
    from dabai.export.onnx import export_checkpoint

    out.parent.mkdir(parents=True, exist_ok=True)
    source = resolve_model(options.model)
    fp32 = out if options.precision == "fp32" else tmp / "fp32.onnx"
    result = ExportResult(out, options.precision)
    if source.suffix.lower() == ".onnx":
        _check_float_onnx(source)
        if fp32 != source:
            shutil.copyfile(source, fp32)
    else:
        export_checkpoint(source, fp32, input_size=options.input_size)
        if options.parity:
            result.parity.append(_gate(_checkpoint_parity(source, fp32, options), fp32))
    if options.precision == "fp16":
        to_fp16(fp32, out)
    elif options.precision == "int8":
        q = quantize_int8(fp32, out, Int8Options(options.calib, options.calib_images, options.calib_method,
                                                 keep_float=tuple(options.keep_float),
                                                 float_high_res=not options.int8_high_res))
        float_convs = [n for n in q.float_nodes if n.rsplit("/", 1)[-1].startswith("Conv")]
        result.notes.append(f"INT8: {q.quantized_nodes} convs quantised; kept in float: {len(float_convs)} convs "
                            f"({_short(float_convs, 6)}) and the {len(q.float_nodes) - len(float_convs)} decode ops after them")
        result.notes.append(f"calibration cache {q.cache} ({'reused' if q.cache_reused else 'written'})")
    if options.precision != "fp32" and options.parity:
        result.parity.append(_gate(run_parity(fp32, out, _parity_options(options, options.precision)), out))
    return result


def _checkpoint_parity(source: Path, fp32: Path, options: ExportOptions) -> ParityReport:
    if options.input_size is None:
        return run_parity(source, fp32, _parity_options(options, "fp32"))
    from dabai.runtime.backends import TorchBackend

    # the reference is the checkpoint run at the export's input size
    reference = TorchBackend.from_checkpoint(source, input_size=options.input_size)
    report = run_parity(reference, fp32, _parity_options(options, "fp32"))
    report.reference = f"{source} @ {options.input_size} px"
    return report


def _parity_options(options: ExportOptions, precision: str) -> ParityOptions:
    data = options.parity_data or options.calib
    return ParityOptions(data=data, images=options.parity_images if data else 0, precision=precision,
                         map_images=options.parity_images,
                         tolerances=options.tolerances if precision == options.precision else None)


def _gate(report: ParityReport, path: Path) -> ParityReport:
    """Keep a model that passed; move a failing one aside with its report and raise."""
    log.debug("%s", report.to_markdown())
    if report.ok:
        return report
    rejected = path.with_name(path.stem + ".rejected" + path.suffix)
    if path.exists():
        path.replace(rejected)
    rejected.with_suffix(".parity.json").write_text(json.dumps(report.to_json(), indent=2))
    raise ParityError(f"refusing {path}: it disagrees with {report.reference}: " + "; ".join(report.failures)
                      + f". The model was moved to {rejected} with its parity report beside it.")


def _check_float_onnx(path: Path) -> None:
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    meta = {p.key: p.value for p in proto.metadata_props}
    if "classes" not in meta:
        raise ModelError(f"{path}: no 'classes' metadata; export it from a checkpoint with `dabai export`")
    if meta.get("precision", "fp32") != "fp32":
        raise ModelError(f"{path}: is already {meta['precision']}; start from the checkpoint or the FP32 ONNX")


def _short(names: list[str], n: int = 4) -> str:
    return ", ".join(names[:n]) + (f", … {len(names) - n} more" if len(names) > n else "")
