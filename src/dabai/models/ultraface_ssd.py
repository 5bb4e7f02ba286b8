"""UltraFace (Ultra-Light-Fast-Generic-Face-Detector-1MB) as a trainable SSD: the network of a released
UltraFace ONNX, its priors, and the box coding, so a face finder can be fine-tuned on labelled faces and
exported back in the same convention (``runtime/ultraface.py`` reads it: inputs ``(x - 127) / 128`` NCHW
at a fixed width x height; outputs ``scores`` [1, A, C] softmax with class 0 the background, and ``boxes``
[1, A, 4] corners in the unit square).

The released files are ONNX with BatchNorm folded into the convolutions; ``load_ultraface_onnx`` cuts the
graph before its box decoding and turns it into a torch module with ``onnx2torch`` (raw class logits and
box offsets). The priors and coding follow the original repository (``vision/ssd/config/fd_config.py``,
``vision/utils/box_utils.py``, MIT); ``check_priors`` compares ours with the constants inside a file, so a
model whose priors differ is refused rather than decoded wrongly.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from dabai.core.errors import ModelError

MIN_BOXES = ((10, 16, 24), (32, 48), (64, 96), (128, 192, 256))  # prior sides in input pixels, per level
STRIDES = (8, 16, 32, 64)
CENTER_VARIANCE = 0.1
SIZE_VARIANCE = 0.2


def ultraface_priors(width: int, height: int) -> np.ndarray:
    """Priors [A, 4] (cx, cy, w, h in the unit square, clipped to it) of an UltraFace input of width x height,
    in the order of the network's outputs: level by level, row by row, prior size fastest."""
    out = []
    for stride, sides in zip(STRIDES, MIN_BOXES):
        fw, fh = math.ceil(width / stride), math.ceil(height / stride)
        for j in range(fh):  # centres on the feature map's own grid (its cells are not exactly a stride wide
            for i in range(fw):  # when the side is not a multiple of it: 480 / 64)
                for side in sides:
                    out.append(((i + 0.5) / fw, (j + 0.5) / fh, side / width, side / height))
    return np.clip(np.asarray(out, np.float32), 0.0, 1.0)


def corners(center_form: np.ndarray) -> np.ndarray:
    return np.concatenate([center_form[..., :2] - center_form[..., 2:] / 2,
                           center_form[..., :2] + center_form[..., 2:] / 2], axis=-1)


def match_priors(boxes: np.ndarray, labels: np.ndarray, priors: np.ndarray, iou_threshold: float = 0.35):
    """SSD matching: (class id per prior [A] int64, 0 = background; encoded offsets per prior [A, 4]) for
    ``boxes`` [n, 4] (x1, y1, x2, y2 in the unit square) with class ids ``labels`` [n] (1, 2, ...). A prior
    takes the face it overlaps most when the IoU reaches ``iou_threshold``; every face keeps at least its
    best prior, however small the face."""
    from dabai.core.boxes import box_iou_matrix

    count = len(priors)
    if len(boxes) == 0:
        return np.zeros(count, np.int64), np.zeros((count, 4), np.float32)
    iou = box_iou_matrix(corners(priors), boxes.astype(np.float32))  # [A, n]
    best_face = iou.argmax(1)
    best_iou = iou[np.arange(count), best_face]
    best_prior = iou.argmax(0)
    best_face[best_prior] = np.arange(len(boxes))
    best_iou[best_prior] = 2.0
    classes = labels[best_face].astype(np.int64)
    classes[best_iou < iou_threshold] = 0
    return classes, encode(boxes[best_face], priors)


def encode(boxes: np.ndarray, priors: np.ndarray) -> np.ndarray:
    """Offsets [A, 4] that ``decode`` turns back into ``boxes`` (corners) given ``priors`` (centre form)."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    size = np.maximum(boxes[:, 2:] - boxes[:, :2], 1e-6)
    return np.concatenate([(centre - priors[:, :2]) / priors[:, 2:] / CENTER_VARIANCE,
                           np.log(size / priors[:, 2:]) / SIZE_VARIANCE], axis=1).astype(np.float32)


def decode(offsets, priors):
    """Corner boxes in the unit square from offsets [..., A, 4] and priors [A, 4] (torch tensors; what the
    released ONNX graphs compute after their last convolutions)."""
    import torch

    centre = offsets[..., :2] * CENTER_VARIANCE * priors[..., 2:] + priors[..., :2]
    size = torch.exp(offsets[..., 2:] * SIZE_VARIANCE) * priors[..., 2:]
    return torch.cat([centre - size / 2, centre + size / 2], dim=-1)


def onnx_input_size(model) -> tuple[int, int]:
    """(width, height) of an UltraFace ONNX model proto's fixed NCHW input."""
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    if len(dims) != 4 or not dims[2] or not dims[3]:
        raise ModelError(f"an UltraFace ONNX has a fixed NCHW input; this one is {dims}")
    return dims[3], dims[2]


def _raw_outputs(model) -> tuple[str, str]:
    """Names of the tensors holding the class logits and the box offsets: the input of the Softmax that makes
    ``scores``, and the offsets the decoding slices (a Concat output read by a Slice, not the scores' path)."""
    made_by = {o: n for n in model.graph.node for o in n.output}
    if "scores" not in made_by or made_by["scores"].op_type != "Softmax":
        raise ModelError("not an UltraFace graph: no Softmax making 'scores'")
    logits = made_by["scores"].input[0]
    sliced = {n.input[0] for n in model.graph.node if n.op_type == "Slice"}
    concat = [n.output[0] for n in model.graph.node if n.op_type == "Concat" and n.output[0] in sliced
              and made_by.get(n.input[0]) is not None and made_by[n.input[0]].op_type in ("Reshape", "Transpose")]
    if len(concat) != 1:
        raise ModelError("not an UltraFace graph: cannot find the box offsets before decoding")
    return logits, concat[0]


def check_priors(model, width: int, height: int) -> None:
    """Refuse a graph whose decoding uses other priors than ``ultraface_priors`` (it would be trained and
    decoded against the wrong anchors)."""
    from onnx import numpy_helper

    ours = ultraface_priors(width, height)
    consts = [numpy_helper.to_array(n.attribute[0].t) for n in model.graph.node if n.op_type == "Constant"]
    consts += [numpy_helper.to_array(t) for t in model.graph.initializer]
    centres = [c.reshape(-1, 2) for c in consts if c.size == ours.size // 2]
    if not any(np.allclose(c, ours[:, :2], atol=1e-5) for c in centres) or \
            not any(np.allclose(c, ours[:, 2:], atol=1e-5) for c in centres):
        raise ModelError(f"the graph's priors are not UltraFace's for {width}x{height} (min boxes {MIN_BOXES}, "
                         f"strides {STRIDES}); it cannot be fine-tuned here")


PARTS = ("backbone", "extras", "classification_headers", "regression_headers")  # UltraFace's own module names


def part_of(weight_name: str) -> str:
    """Which part of the network a released file's weight belongs to (its BatchNorm-folded backbone weights
    carry bare numbers as names; the rest keep the original module names)."""
    head = weight_name.split(".")[0]
    return head if head in PARTS else "backbone"


def load_ultraface_onnx(path: str | Path):
    """(torch module: normalised NCHW input of any size → (class logits [N, A, C], offsets [N, A, 4]),
    (width, height) of the released input, class count C including the background, the part of the network
    (``PARTS``) each of the module's parameters belongs to) of an UltraFace ONNX."""
    import onnx
    from onnx import version_converter
    from onnx2torch import convert

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: UltraFace ONNX not found")
    model = name_nodes(onnx.load(str(path)))
    width, height = onnx_input_size(model)
    check_priors(model, width, height)
    logits, offsets = _raw_outputs(model)
    model = onnx.shape_inference.infer_shapes(model)
    cut = onnx.utils.Extractor(model).extract_model([model.graph.input[0].name], [logits, offsets])
    if cut.opset_import[0].version < 13:
        cut = version_converter.convert_version(cut, 13)
    net = convert(name_nodes(cut))  # the conversion leaves some nodes it adds unnamed
    classes = [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim][-1]
    weight_of = {n.name: n.input[1] for n in cut.graph.node if n.op_type in ("Conv", "BatchNormalization")}
    parts = {name: part_of(weight_of.get(name.rsplit(".", 1)[0], "")) for name, _ in net.named_parameters()}
    return net, (width, height), int(classes), parts


def name_nodes(model):
    """``model`` with every node named (some releases leave names blank): the names name the torch modules
    ``onnx2torch`` makes, and ``write_weights`` finds its way back by them."""
    for i, node in enumerate(model.graph.node):
        node.name = node.name or f"{node.op_type}_n{i}"
    return model


# the torch parameters and buffers of each ONNX op, in the order of the node's inputs after the data
_WEIGHT_INPUTS = {"Conv": ("weight", "bias"), "BatchNormalization": ("weight", "bias", "running_mean", "running_var")}


def write_weights(released: str | Path, net, out: str | Path, metadata: dict | None = None) -> Path:
    """The released file with ``net``'s weights put in place of its own, everything else (its box decoding,
    opset, input and outputs) unchanged: what a fine-tuned finder is exported as. ``metadata`` joins the file's."""
    import onnx
    from onnx import numpy_helper

    model = name_nodes(onnx.load(str(released)))
    modules = dict(net.named_modules())
    tensors = {t.name: t for t in model.graph.initializer}
    written = set()
    for node in model.graph.node:
        keys = _WEIGHT_INPUTS.get(node.op_type)
        if keys is None or node.name not in modules:
            continue
        module = modules[node.name]
        for key, name in zip(keys, node.input[1:]):
            value = getattr(module, key, None)
            if value is None or name not in tensors:
                continue
            array = value.detach().cpu().numpy().astype(numpy_helper.to_array(tensors[name]).dtype)
            tensors[name].CopyFrom(numpy_helper.from_array(array.reshape(tuple(tensors[name].dims)), name))
            written.add(f"{node.name}.{key}")
    missing = [n for n, _ in net.named_parameters() if n not in written]
    if missing:
        raise ModelError(f"{released}: no place in the released graph for {len(missing)} trained weights "
                         f"({', '.join(missing[:3])}…)")
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(out))
    return Path(out)


def export_module(net, width: int, height: int):
    """``net`` (raw logits and offsets) wrapped to output what the released files do: softmax scores and
    corner boxes in the unit square, for a fixed width x height input."""
    import torch

    class Decoded(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net
            self.register_buffer("priors", torch.from_numpy(ultraface_priors(width, height)), persistent=False)

        def forward(self, x):
            logits, offsets = self.net(x)
            return torch.softmax(logits, dim=2), decode(offsets, self.priors)

    return Decoded()
