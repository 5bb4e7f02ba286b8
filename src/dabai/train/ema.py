"""An exponential moving average of the weights, the copy that gets validated, saved as ``model`` and exported.

Averaging the last few hundred steps smooths out the noise of small CPU batches
(YOLOv5/timm do the same). The decay ramps up from 0 over the first steps
(``decay * (1 - exp(-updates / warmup_steps))``) so the average does not
remember the random initial head. Floating-point buffers (BatchNorm running
statistics) are averaged too; integer ones are copied.
"""

from __future__ import annotations

import copy
import math

import torch

from dabai.core.errors import ConfigError


class ModelEMA:
    def __init__(self, model: torch.nn.Module, decay: float, warmup_steps: float = 200.0):
        if not 0.0 < decay < 1.0:
            raise ConfigError(f"ema.decay: {decay} is not allowed; use a value in (0, 1), e.g. 0.998, or 0 to disable the average")
        # requires_grad is left as it is: a pruned run pickles this module, and a later --init trains it
        self.module = copy.deepcopy(model).eval()
        self.decay, self.warmup_steps, self.updates = decay, max(warmup_steps, 1e-9), 0

    def current_decay(self) -> float:
        return self.decay * (1.0 - math.exp(-self.updates / self.warmup_steps))

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        d = self.current_decay()
        live = model.state_dict()
        for name, avg in self.module.state_dict().items():
            value = live[name].detach()
            if avg.dtype.is_floating_point:
                avg.mul_(d).add_(value.to(avg.dtype), alpha=1.0 - d)
            else:
                avg.copy_(value)

    def load_state_dict(self, state: dict, updates: int) -> None:
        self.module.load_state_dict(state)
        self.updates = updates
