"""A multi-layer perceptron (784-512-512-10), as in the MNIST tutorials."""

from __future__ import annotations


def mlp(batch: int = 64, sizes=(784, 512, 512, 10), seed: int = 0):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).eval(), (torch.randn(batch, sizes[0]),)
