"""State-space models: Mamba-130M from `transformers` (random weights, no download).

On a machine without the mamba-ssm CUDA kernels transformers runs Mamba's slow path: the selective
scan is a Python loop over the tokens, so a traced graph holds one small step per token and layer."""

from __future__ import annotations

from .transformer import _transformers


def mamba_130m(batch: int = 1, seq: int = 128, layers: int = 24, seed: int = 0):
    """MambaModel with the Mamba-130M shape (d_model 768, 24 layers, state 16, expand 2, conv 4),
    without cache, returning the last hidden state for integer token ids of shape (batch, seq)."""
    import torch

    tf = _transformers()
    torch.manual_seed(seed)
    cfg = tf.MambaConfig(hidden_size=768, num_hidden_layers=layers, vocab_size=50280, state_size=16, expand=2,
                         conv_kernel=4, use_cache=False)
    model = tf.MambaModel(cfg).eval()
    model.config.return_dict = False
    return model, (torch.randint(0, cfg.vocab_size, (batch, seq), dtype=torch.int64),)
