"""DDP set-up under torchrun: gloo on CPU, nccl on GPU; a no-op for a single process."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as tdist


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def setup() -> DistContext:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if not tdist.is_initialized():
        tdist.init_process_group(backend)
    return DistContext(tdist.get_rank(), tdist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def is_main_process() -> bool:
    """Whether this process is rank 0 of a torchrun launch (or not launched by torchrun at all)."""
    return int(os.environ.get("RANK", "0")) == 0


def cleanup(ctx: DistContext) -> None:
    if ctx.enabled and tdist.is_initialized():
        tdist.destroy_process_group()


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        tdist.barrier()


def broadcast_object(ctx: DistContext, obj):
    if not ctx.enabled:
        return obj
    holder = [obj]
    tdist.broadcast_object_list(holder, src=0)
    return holder[0]
