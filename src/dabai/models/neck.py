"""A light PAN neck: top-down FPN fusion, then a bottom-up path (PANet), all at one width."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from dabai.models.layers import DepthwiseSeparable, conv_bn_act


class LightPAN(nn.Module):
    def __init__(self, in_channels: list[int], width: int):
        super().__init__()
        self.lateral = nn.ModuleList(conv_bn_act(c, width, 1) for c in in_channels)
        self.top_down = nn.ModuleList(DepthwiseSeparable(width, width) for _ in in_channels[:-1])
        self.down = nn.ModuleList(DepthwiseSeparable(width, width, stride=2) for _ in in_channels[:-1])
        self.bottom_up = nn.ModuleList(DepthwiseSeparable(width, width) for _ in in_channels[:-1])

    def forward(self, feats):
        lat = [layer(f) for layer, f in zip(self.lateral, feats)]
        # top-down: coarse semantics into the fine levels (small faces live at stride 8)
        for i in range(len(lat) - 2, -1, -1):
            up = F.interpolate(lat[i + 1], size=lat[i].shape[-2:], mode="nearest")
            lat[i] = self.top_down[i](lat[i] + up)
        # bottom-up: precise localisation back into the coarse levels
        outs = [lat[0]]
        for i in range(1, len(lat)):
            outs.append(self.bottom_up[i - 1](lat[i] + self.down[i - 1](outs[-1])))
        return outs
