"""Small model factories for the command-line tests, loaded as tiny_models:FUNCTION."""

import torch


def mlp():
    """A model and its example input."""
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4)).eval(), \
        (torch.randn(2, 16),)


def embedder():
    """A model alone (inputs from --example-shape): token ids must stay inside the vocabulary."""
    torch.manual_seed(0)

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(40, 8)
            self.out = torch.nn.Linear(8, 3)

        def forward(self, ids):
            return self.out(self.emb(ids)).mean(1)

    return Tiny().eval()


def two_inputs(width: int = 8):
    torch.manual_seed(0)

    class Two(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(width, width)

        def forward(self, a, b):
            return torch.tanh(self.lin(a)) * b, a.sum(-1)

    return Two().eval(), (torch.randn(3, width), torch.randn(3, width))


def broken():
    class Broken(torch.nn.Module):
        def forward(self, x):
            raise RuntimeError("this model cannot run")

    return Broken(), (torch.randn(2, 2),)


NOT_A_FUNCTION = 3
