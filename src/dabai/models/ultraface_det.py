"""UltraFace (Ultra-Light-Fast-Generic-Face-Detector-1MB) backbone + PAN + anchor-free head.

The second transfer-learning direction: the RFB backbone comes pretrained on
*faces* (WIDER FACE) rather than ImageNet, and is fine-tuned to the three mask
classes. Module names mirror the original ``base_net`` so its ``.pth`` loads
directly (MIT licence, see ../shared/weights/LICENSE.ultraface).
"""

from __future__ import annotations

import torch
from torch import nn

from dabai.core.errors import ModelError
from dabai.models.base import DetectorBase, Normalize, check_input_size
from dabai.models.head import DenseHead
from dabai.models.neck import LightPAN
from dabai.models.registry import register_model

TAPS = ((0, 8), (8, 11), (11, 13))  # base_net slices ending at strides 8, 16, 32
TAP_CHANNELS = [64, 128, 256]


class BasicConv(nn.Module):
    def __init__(self, cin, cout, k, stride=1, padding=0, dilation=1, relu=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding, dilation=dilation, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.01)
        self.relu = nn.ReLU(inplace=True) if relu else None

    def forward(self, x):
        x = self.bn(self.conv(x))
        return self.relu(x) if self.relu is not None else x


class BasicRFB(nn.Module):
    """Receptive Field Block: three dilated branches plus a shortcut."""

    def __init__(self, cin, cout, scale=1.0, map_reduce=8, vision=1):
        super().__init__()
        self.scale = scale
        inter = cin // map_reduce
        self.branch0 = nn.Sequential(BasicConv(cin, inter, 1, relu=False), BasicConv(inter, 2 * inter, 3, padding=1),
                                     BasicConv(2 * inter, 2 * inter, 3, padding=vision + 1, dilation=vision + 1, relu=False))
        self.branch1 = nn.Sequential(BasicConv(cin, inter, 1, relu=False), BasicConv(inter, 2 * inter, 3, padding=1),
                                     BasicConv(2 * inter, 2 * inter, 3, padding=vision + 2, dilation=vision + 2, relu=False))
        self.branch2 = nn.Sequential(BasicConv(cin, inter, 1, relu=False), BasicConv(inter, inter // 2 * 3, 3, padding=1),
                                     BasicConv(inter // 2 * 3, 2 * inter, 3, padding=1),
                                     BasicConv(2 * inter, 2 * inter, 3, padding=vision + 4, dilation=vision + 4, relu=False))
        self.ConvLinear = BasicConv(6 * inter, cout, 1, relu=False)
        self.shortcut = BasicConv(cin, cout, 1, relu=False)
        self.relu = nn.ReLU(inplace=False)

    def forward(self, x):
        out = self.ConvLinear(torch.cat((self.branch0(x), self.branch1(x), self.branch2(x)), 1))
        return self.relu(out * self.scale + self.shortcut(x))


def _conv_bn(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def _conv_dw(cin, cout, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(inplace=True),
        nn.Conv2d(cin, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


def rfb_base_net() -> nn.Sequential:
    c = 16
    return nn.Sequential(
        _conv_bn(3, c, 2), _conv_dw(c, 2 * c, 1), _conv_dw(2 * c, 2 * c, 2), _conv_dw(2 * c, 2 * c, 1),
        _conv_dw(2 * c, 4 * c, 2), _conv_dw(4 * c, 4 * c, 1), _conv_dw(4 * c, 4 * c, 1), BasicRFB(4 * c, 4 * c),
        _conv_dw(4 * c, 8 * c, 2), _conv_dw(8 * c, 8 * c, 1), _conv_dw(8 * c, 8 * c, 1),
        _conv_dw(8 * c, 16 * c, 2), _conv_dw(16 * c, 16 * c, 1),
    )


def load_base_net(net: nn.Sequential, pretrained: str) -> None:
    from dabai.models.weights import resolve_weights

    path = resolve_weights(pretrained)
    state = torch.load(path, map_location="cpu", weights_only=True)
    base = {k[len("base_net."):]: v for k, v in state.items() if k.startswith("base_net.")}
    if not base:
        raise ModelError(f"{path}: no 'base_net.*' weights; expected an UltraFace RFB state dict")
    missing, unexpected = net.load_state_dict(base, strict=False)
    if missing:
        raise ModelError(f"{path}: not an UltraFace RFB-320 file (missing {missing[:3]} …)")


class UltraFaceDetector(DetectorBase):
    def __init__(self, num_classes: int, input_size: int = 320, width: int = 64, pretrained: str | None = None):
        super().__init__()
        self.num_classes, self.strides = num_classes, (8, 16, 32)
        self.input_size = check_input_size(input_size, self.strides)
        self.preprocess_meta = {"color": "RGB", "scale": "0-255", "letterbox": "top-left", "pad_value": 114}
        self.normalize = Normalize(mean=(127.0, 127.0, 127.0), std=(128.0, 128.0, 128.0))  # UltraFace's own
        base = rfb_base_net()
        if pretrained:
            load_base_net(base, pretrained)
        self.stages = nn.ModuleList(nn.Sequential(*base[a:b]) for a, b in TAPS)
        self.neck = LightPAN(TAP_CHANNELS, width)
        self.head = DenseHead(width, num_classes, self.strides, 2)
        self.register_buffer("_points", self.points(), persistent=False)


@register_model("ultraface_pan")
def ultraface_pan(num_classes: int, input_size: int = 320, pretrained: str | None = None) -> UltraFaceDetector:
    """UltraFace RFB backbone (face-pretrained, WIDER FACE) + 64-wide PAN + anchor-free head."""
    return UltraFaceDetector(num_classes, input_size, 64, pretrained)
