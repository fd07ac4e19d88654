"""GPU strategies (target keys "cuda", "gpu").  Data movement and element-wise groups run one thread
per output element; the compute-heavy operators get their GPU kernels with CUDA support in
relay.build (until then they have no implementation here, and selecting one names the operator)."""

from __future__ import annotations

from .generic import register_strategy, single


def _schedule_injective(attrs, outs, target, cfg):
    from ....topi import cuda

    return cuda.schedule_injective(outs)


register_strategy("injective", "cuda", "gpu")(single("injective.cuda", _schedule_injective))
