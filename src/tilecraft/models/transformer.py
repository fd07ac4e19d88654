"""Transformers: BERT-base, BERT-large and GPT-2 small from `transformers` (random weights, no download),
and a small ViT in plain torch."""

from __future__ import annotations


def _transformers():
    try:
        import transformers
    except ImportError as err:
        raise ImportError("this zoo model needs the `transformers` package: pip install transformers") from err
    return transformers


def bert_base(batch: int = 1, seq: int = 128, seed: int = 0, **shape):
    """BertModel(BertConfig()) — the BERT-base shape — with an attention mask (last tokens padded).
    `shape` overrides BertConfig fields (hidden_size, num_hidden_layers, ...), e.g. for small tests."""
    import torch

    tf = _transformers()
    torch.manual_seed(seed)
    cfg = tf.BertConfig(attn_implementation="eager", **shape)
    model = tf.BertModel(cfg, add_pooling_layer=False).eval()
    model.config.return_dict = False
    ids = torch.randint(0, cfg.vocab_size, (batch, seq), dtype=torch.int64)
    mask = torch.ones(batch, seq, dtype=torch.int64)
    mask[:, seq - seq // 8:] = 0
    return model, (ids, mask)


def bert_large(batch: int = 1, seq: int = 128, seed: int = 0, layers: int = 24):
    """BERT-large (hidden 1024, 24 layers, 16 heads, intermediate 4096), otherwise as `bert_base`."""
    return bert_base(batch, seq, seed, hidden_size=1024, num_hidden_layers=layers, num_attention_heads=16,
                     intermediate_size=4096)


def gpt2_small(batch: int = 1, seq: int = 128, seed: int = 0):
    """GPT2Model(GPT2Config()) — GPT-2 small — returning the last hidden state."""
    import torch

    tf = _transformers()
    torch.manual_seed(seed)
    cfg = tf.GPT2Config(attn_implementation="eager", use_cache=False)
    model = tf.GPT2Model(cfg).eval()
    model.config.return_dict = False
    return model, (torch.randint(0, cfg.vocab_size, (batch, seq), dtype=torch.int64),)


def gpt2_block(batch: int = 1, seq: int = 128, seed: int = 0):
    """One GPT-2 transformer block (768 wide, causal attention) in plain torch."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    class Block(nn.Module):
        def __init__(self, d=768, heads=12):
            super().__init__()
            self.heads = heads
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
            self.register_buffer("causal", torch.tril(torch.ones(seq, seq, dtype=torch.bool)))

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            q, k, v = (z.reshape(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / (d // self.heads) ** 0.5)
            att = att.masked_fill(~self.causal[:t, :t], float("-inf")).softmax(-1)
            x = x + self.proj((att @ v).transpose(1, 2).reshape(b, t, d))
            return x + self.out(nn.functional.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    return Block().eval(), (torch.randn(batch, seq, 768),)


def vit_small(batch: int = 1, image: int = 224, patch: int = 16, dim: int = 192, depth: int = 6, heads: int = 3,
              seed: int = 0, num_classes: int = 1000):
    """A small Vision Transformer (ViT-Tiny width, 6 blocks) in plain torch."""
    import torch
    from torch import nn

    torch.manual_seed(seed)

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            n = (image // patch) ** 2
            self.embed = nn.Conv2d(3, dim, patch, patch)
            self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
            self.pos = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
            layer = nn.TransformerEncoderLayer(dim, heads, dim * 4, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, num_classes)

        def forward(self, x):
            x = self.embed(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
            return self.head(self.norm(self.encoder(x))[:, 0])

    return ViT().eval(), (torch.randn(batch, 3, image, image),)
