"""The model zoo used by benchmarks, examples and the command line: plain-torch definitions with
random weights (nothing is downloaded).  Each factory returns (model in eval mode, example inputs).

    from tilecraft.models import load
    model, inputs = load("tilecraft.models:resnet18")
"""

from __future__ import annotations

import importlib

from .cnn import mobilenet_v2, resnet18, resnet50  # noqa: F401
from .mlp import mlp  # noqa: F401
from .ssm import mamba_130m  # noqa: F401
from .transformer import bert_base, bert_large, gpt2_block, gpt2_small, vit_small  # noqa: F401

ZOO = ("mlp", "resnet18", "resnet50", "mobilenet_v2", "bert_base", "bert_large", "gpt2_small", "gpt2_block",
       "vit_small", "mamba_130m")


def load(spec: str, **kwargs):
    """Resolve "package.module:function" (or a bare zoo name) and call it."""
    module, _, func = spec.rpartition(":") if ":" in spec else ("tilecraft.models", ":", spec)
    try:
        factory = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot load model {spec!r}: {err}; zoo models: {', '.join(ZOO)}") from None
    return factory(**kwargs)
