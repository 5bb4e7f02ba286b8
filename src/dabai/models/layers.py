"""Small building blocks shared by the detectors (CPU-friendly: depthwise separable convs)."""

from __future__ import annotations

from torch import nn


def conv_bn_act(cin: int, cout: int, k: int = 1, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class DepthwiseSeparable(nn.Sequential):
    """3x3 depthwise + 1x1 pointwise, each with BN and ReLU6."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__(conv_bn_act(cin, cin, 3, stride, groups=cin), conv_bn_act(cin, cout, 1))
