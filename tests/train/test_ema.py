"""train/ema.py: the weight average that is validated, saved and exported."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from dabai.core.errors import ConfigError  # noqa: E402
from dabai.train.ema import ModelEMA  # noqa: E402


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))


def test_the_average_moves_towards_the_live_weights_at_the_ramped_decay():
    model = _net()
    ema = ModelEMA(model, decay=0.9, warmup_steps=10)
    before = ema.module[0].weight.clone()
    with torch.no_grad():
        model[0].weight.add_(1.0)
    ema.update(model)
    d = 0.9 * (1 - math.exp(-1 / 10))
    torch.testing.assert_close(ema.module[0].weight, d * before + (1 - d) * model[0].weight)
    assert ema.updates == 1


def test_the_average_converges_to_weights_that_stop_changing():
    model = _net()
    ema = ModelEMA(model, decay=0.5, warmup_steps=1)
    with torch.no_grad():
        model[0].weight.mul_(3.0)
    for _ in range(60):
        ema.update(model)
    torch.testing.assert_close(ema.module[0].weight, model[0].weight)


def test_batchnorm_statistics_are_averaged_and_counters_copied():
    model = _net()
    ema = ModelEMA(model, decay=0.5, warmup_steps=1e-9)  # no ramp: d = 0.5 from the first step
    model.train()
    model(torch.randn(8, 3, 8, 8) + 5.0)  # running_mean moves, num_batches_tracked becomes 1
    ema.update(model)
    torch.testing.assert_close(ema.module[1].running_mean, 0.5 * model[1].running_mean)
    assert int(ema.module[1].num_batches_tracked) == 1


def test_the_average_is_a_separate_copy_that_leaves_the_live_model_alone():
    model = _net()
    ema = ModelEMA(model, decay=0.9)
    live = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        ema.module[0].weight.zero_()
    ema.update(model)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, live[key])
    assert not ema.module.training


@pytest.mark.parametrize("decay", [1.0, 1.5, -0.1])
def test_a_decay_outside_0_1_is_a_config_error_naming_the_key(decay):
    with pytest.raises(ConfigError, match=r"ema\.decay"):
        ModelEMA(_net(), decay=decay)
