"""The model zoo used by benchmarks, examples and the command line: plain-torch definitions with
random weights (nothing is downloaded).  Each factory returns (model in eval mode, example inputs).

    from tilecraft.models import load
    model, inputs = load("tilecraft.models:resnet18")
    model, inputs = load("suite:roberta", tiny=True)   # a zoo submodule by its short name

The real-model suite (`suite.SUITE`: BERT-large ... Llama, Swin, UNet, built from transformers
configs) lives in `tilecraft.models.suite`.
"""

from __future__ import annotations

import importlib
import importlib.util

from .cnn import mobilenet_v2, resnet18, resnet50  # noqa: F401
from .mlp import mlp  # noqa: F401
from .ssm import mamba_130m  # noqa: F401
from .suite import SUITE  # noqa: F401
from .transformer import bert_base, bert_large, gpt2_block, gpt2_small, vit_small  # noqa: F401

ZOO = ("mlp", "resnet18", "resnet50", "mobilenet_v2", "bert_base", "bert_large", "gpt2_small", "gpt2_block",
       "vit_small", "mamba_130m")


def load(spec: str, **kwargs):
    """Resolve "package.module:function", "submodule:function" (a module of tilecraft.models, e.g.
    "suite:llama") or a bare zoo name, and call it."""
    module, _, func = spec.rpartition(":") if ":" in spec else ("tilecraft.models", ":", spec)
    if module and "." not in module and importlib.util.find_spec(f"tilecraft.models.{module}") is not None:
        module = f"tilecraft.models.{module}"
    try:
        factory = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"cannot load model {spec!r}: {err}; zoo models: {', '.join(ZOO)}; "
                         f"suite models (suite:NAME): {', '.join(SUITE)}") from None
    return factory(**kwargs)
