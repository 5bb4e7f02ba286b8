"""MobileNetV2 + light PAN + anchor-free head: the default CPU mask detector.

The backbone starts from torchvision's ImageNet MobileNetV2 (the official
``mobilenet_v2-b0353104.pth``), tapped at strides 8/16/32 (or 4/8/16/32 for the
``_p2`` variant, which adds a stride-4 level for faces under ~12 px); the
expensive final 1x1 conv to 1280 channels is dropped since the detector never
pools globally.
"""

from __future__ import annotations

import torch
from torch import nn

from dabai.core.errors import ModelError
from dabai.models.base import DetectorBase, Normalize, check_input_size
from dabai.models.head import DenseHead
from dabai.models.neck import LightPAN
from dabai.models.registry import register_model

# MobileNetV2 `features` index ranges ending at strides 8, 16 and 32, and their widths.
STAGES = ((0, 7), (7, 14), (14, 18))
STAGE_CHANNELS = [32, 96, 320]
# With a stride-4 level: features[0:4] end at stride 4 (24 channels).
STAGES_P2 = ((0, 4), (4, 7), (7, 14), (14, 18))
STAGE_CHANNELS_P2 = [24, 32, 96, 320]


def load_mobilenet_v2(pretrained: str | None) -> nn.Module:
    from torchvision.models import mobilenet_v2

    net = mobilenet_v2(weights=None)
    if pretrained:
        from dabai.models.weights import resolve_weights

        path = resolve_weights(pretrained)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict(state)
        except (RuntimeError, KeyError) as exc:
            raise ModelError(f"{path}: not a torchvision MobileNetV2 state dict ({exc})") from None
    return net


class MobileNetV2Detector(DetectorBase):
    def __init__(self, num_classes: int, input_size: int = 320, width: int = 64, head_depth: int = 2,
                 pretrained: str | None = None, stride4: bool = False):
        super().__init__()
        self.num_classes = num_classes
        self.strides = (4, 8, 16, 32) if stride4 else (8, 16, 32)
        self.input_size = check_input_size(input_size, self.strides)
        stages, channels = (STAGES_P2, STAGE_CHANNELS_P2) if stride4 else (STAGES, STAGE_CHANNELS)
        self.preprocess_meta = {"color": "RGB", "scale": "0-255", "letterbox": "top-left", "pad_value": 114}
        features = load_mobilenet_v2(pretrained).features
        self.normalize = Normalize()
        self.stages = nn.ModuleList(nn.Sequential(*features[a:b]) for a, b in stages)
        self.neck = LightPAN(channels, width)
        self.head = DenseHead(width, num_classes, self.strides, head_depth)
        self.register_buffer("_points", self.points(), persistent=False)


@register_model("mnv2_pan")
def mnv2_pan(num_classes: int, input_size: int = 320, pretrained: str | None = None) -> MobileNetV2Detector:
    """MobileNetV2 (ImageNet) + 64-wide PAN + 2-layer anchor-free head (default)."""
    return MobileNetV2Detector(num_classes, input_size, width=64, head_depth=2, pretrained=pretrained)


@register_model("mnv2_pan_wide")
def mnv2_pan_wide(num_classes: int, input_size: int = 320, pretrained: str | None = None) -> MobileNetV2Detector:
    """MobileNetV2 (ImageNet) + 96-wide PAN + 3-layer head: more capacity, slower."""
    return MobileNetV2Detector(num_classes, input_size, width=96, head_depth=3, pretrained=pretrained)


@register_model("mnv2_pan_p2")
def mnv2_pan_p2(num_classes: int, input_size: int = 320, pretrained: str | None = None) -> MobileNetV2Detector:
    """MobileNetV2 (ImageNet) + 64-wide PAN with a stride-4 level: finds smaller faces, ~20 % more compute."""
    return MobileNetV2Detector(num_classes, input_size, width=64, head_depth=2, pretrained=pretrained, stride4=True)
