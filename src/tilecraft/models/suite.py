"""The real-model suite (issue 14): the architectures people bring, built from `transformers` configs
(or plain torch where transformers has none: MobileNetV3, the LSTM, the GRU, the UNet) with random
weights — nothing is downloaded.

Each factory takes `tiny=False` and returns (model in eval mode, example inputs), like the rest of
the zoo.  The default is the published shape (BERT-large has 24 layers of width 1024, Llama is
TinyLlama-1.1B, Mistral is Mistral-7B ...); `tiny=True` keeps the architecture (attention kind,
rotary embeddings, grouped-query heads, windows, depthwise convolutions ...) with few layers, small
widths and short inputs, for tests.  Text models take int64 token ids and, where the model has one,
an int64 attention mask with padding (right-padded for encoders, left-padded for decoders, as
batched generation pads); transformers models return tuples (`return_dict=False`, no cache).

    from tilecraft.models import load
    model, inputs = load("suite:roberta", tiny=True)      # or "tilecraft.models.suite:roberta"

`SUITE` lists the names; `fresh_inputs` draws new random inputs of the same kinds (for checking a
compiled model on values the trace never saw).  Compiling them through each import path and
comparing with PyTorch is models/suite_paths.py."""

from __future__ import annotations

from .cnn import _randomize_bn
from .transformer import _transformers

SUITE = ("bert_large", "distilbert", "roberta", "albert", "t5_encoder", "bart_encoder", "llama", "qwen2", "mistral",
         "gpt_neox", "mamba", "whisper_encoder", "clip_vision", "vit", "deit", "swin", "convnext", "mobilevit",
         "segformer", "efficientnet", "regnet", "mobilenet_v3", "lstm", "gru", "unet")

# the small shape shared by the tiny text models
_TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
_TINY_VOCAB = 100


# ---------------------------------------------------------------------------- helpers

def _torch():
    import torch

    return torch


def _hf(model):
    """A transformers model as the zoo returns it: eval mode, tuples instead of ModelOutput."""
    model.config.return_dict = False
    return model.eval()


def _as_tuple(model):
    """Swin and ConvNeXt read `.last_hidden_state` of their own encoder, so they need return_dict=True:
    wrap them to return `to_tuple()` instead."""
    from torch import nn

    class Tuples(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.model, self.config = inner, inner.config

        def forward(self, *args):
            return self.model(*args).to_tuple()

    return Tuples(model.eval()).eval()


def _text_inputs(vocab, batch, seq, seed, left=False, mask=True, low=0):
    """int64 token ids (batch, seq) and an attention mask whose last row has a quarter padded."""
    torch = _torch()
    g = torch.Generator().manual_seed(seed + 17)
    ids = torch.randint(low, vocab, (batch, seq), generator=g, dtype=torch.int64)
    if not mask:
        return (ids,)
    m = torch.ones(batch, seq, dtype=torch.int64)
    pad = max(1, seq // 4)
    if left:
        m[-1, :pad] = 0
    else:
        m[-1, seq - pad:] = 0
    return ids, m


def _image(batch, channels, size, seed):
    torch = _torch()
    return (torch.randn(batch, channels, size, size, generator=torch.Generator().manual_seed(seed + 17)),)


def _pick(tiny, small, full, overrides):
    cfg = dict(small if tiny else full)
    cfg.update(overrides)
    return cfg


# ---------------------------------------------------------------------------- text encoders

def bert_large(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, **config):
    """BERT-large (hidden 1024, 24 layers, 16 heads, intermediate 4096), right-padded mask."""
    tf, torch = _transformers(), _torch()
    torch.manual_seed(seed)
    cfg = tf.BertConfig(**_pick(tiny, dict(_TINY, vocab_size=_TINY_VOCAB, max_position_embeddings=64),
                                dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                                     intermediate_size=4096), config))
    model = _hf(tf.BertModel(cfg))
    return model, _text_inputs(cfg.vocab_size, batch, seq or (8 if tiny else 128), seed)


def distilbert(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, **config):
    """DistilBERT-base (dim 768, 6 layers, 12 heads, hidden 3072)."""
    tf, torch = _transformers(), _torch()
    torch.manual_seed(seed)
    cfg = tf.DistilBertConfig(**_pick(tiny, dict(dim=32, n_layers=2, n_heads=4, hidden_dim=64, vocab_size=_TINY_VOCAB,
                                                 max_position_embeddings=64), {}, config))
    model = _hf(tf.DistilBertModel(cfg))
    return model, _text_inputs(cfg.vocab_size, batch, seq or (8 if tiny else 128), seed)


def roberta(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, **config):
    """RoBERTa-base (hidden 768, 12 layers); position ids come from a cumsum over the non-pad ids."""
    tf, torch = _transformers(), _torch()
    torch.manual_seed(seed)
    cfg = tf.RobertaConfig(**_pick(tiny, dict(_TINY, vocab_size=_TINY_VOCAB, max_position_embeddings=64),
                                   dict(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1), config))
    model = _hf(tf.RobertaModel(cfg))
    return model, _text_inputs(cfg.vocab_size, batch, seq or (8 if tiny else 128), seed, low=2)


def albert(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, **config):
    """ALBERT-base-v2 (embedding 128, hidden 768, 12 layers sharing one set of weights)."""
    tf, torch = _transformers(), _torch()
    torch.manual_seed(seed)
    cfg = tf.AlbertConfig(**_pick(tiny, dict(_TINY, embedding_size=16, vocab_size=_TINY_VOCAB,
                                             max_position_embeddings=64),
                                  dict(embedding_size=128, hidden_size=768, num_hidden_layers=12,
                                       num_attention_heads=12, intermediate_size=3072), config))
    model = _hf(tf.AlbertModel(cfg))
    return model, _text_inputs(cfg.vocab_size, batch, seq or (8 if tiny else 128), seed)


def t5_encoder(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, **config):
    """The encoder of T5-base (d_model 768, 12 layers, 12 heads, d_ff 3072, relative position buckets)."""
    tf, torch = _transformers(), _torch()
    torch.manual_seed(seed)
    cfg = tf.T5Config(**_pick(tiny, dict(d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                                         vocab_size=_TINY_VOCAB),
                              dict(d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12), config),
                      use_cache=False)
    model = _hf(tf.T5EncoderModel(cfg))
    return model, _text_inputs(cfg.vocab_size, batch, seq or (8 if tiny else 128), seed)


def bart_encoder(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, **config):
    """The encoder of BART-base (d_model 768, 6 layers, 12 heads, ffn 3072, learned positions)."""
    tf, torch = _transformers(), _torch()
    torch.manual_seed(seed)
    from transformers.models.bart.modeling_bart import BartEncoder

    cfg = tf.BartConfig(**_pick(tiny, dict(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                                           decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
                                           vocab_size=_TINY_VOCAB, max_position_embeddings=64),
                                dict(d_model=768, encoder_layers=6, decoder_layers=6, encoder_attention_heads=12,
                                     decoder_attention_heads=12, encoder_ffn_dim=3072, decoder_ffn_dim=3072),
                                config), use_cache=False)
    model = BartEncoder(cfg).eval()
    model.config.return_dict = False
    return model, _text_inputs(cfg.vocab_size, batch, seq or (8 if tiny else 128), seed)


# ---------------------------------------------------------------------------- decoders

def _decoder(cls_name, cfg_name, tiny, batch, seq, seed, small, full, config):
    tf, torch = _transformers(), _torch()
    torch.manual_seed(seed)
    cfg = getattr(tf, cfg_name)(**_pick(tiny, small, full, config), use_cache=False)
    model = _hf(getattr(tf, cls_name)(cfg))
    return model, _text_inputs(cfg.vocab_size, batch, seq or (8 if tiny else 128), seed, left=True)


def llama(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, **config):
    """TinyLlama-1.1B (hidden 2048, 22 layers, 32 heads over 4 key/value heads, SwiGLU 5632, RoPE),
    left-padded mask."""
    return _decoder("LlamaModel", "LlamaConfig", tiny, batch, seq, seed,
                    dict(_TINY, num_key_value_heads=2, vocab_size=_TINY_VOCAB, max_position_embeddings=64),
                    dict(hidden_size=2048, num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4,
                         intermediate_size=5632, vocab_size=32000, max_position_embeddings=2048), config)


def qwen2(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, **config):
    """Qwen2-0.5B (hidden 896, 24 layers, 14 heads over 2 key/value heads, biased q/k/v, vocab 151936)."""
    return _decoder("Qwen2Model", "Qwen2Config", tiny, batch, seq, seed,
                    dict(_TINY, num_key_value_heads=2, vocab_size=_TINY_VOCAB, max_position_embeddings=64),
                    dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                         intermediate_size=4864, vocab_size=151936, max_position_embeddings=32768,
                         rope_theta=1000000.0, tie_word_embeddings=True), config)


def mistral(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, **config):
    """Mistral-7B (hidden 4096, 32 layers, 32 heads over 8 key/value heads, SwiGLU 14336, sliding window
    4096).  The full model holds 7 billion float32 weights (about 29 GB): pass num_hidden_layers=… to
    build fewer layers of the real width."""
    return _decoder("MistralModel", "MistralConfig", tiny, batch, seq, seed,
                    dict(_TINY, num_key_value_heads=2, vocab_size=_TINY_VOCAB, max_position_embeddings=64,
                         sliding_window=4),
                    dict(hidden_size=4096, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                         intermediate_size=14336, vocab_size=32000, sliding_window=4096), config)


def gpt_neox(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, **config):
    """Pythia-160M (GPT-NeoX: hidden 768, 12 layers, 12 heads, partial rotary 0.25, parallel residual)."""
    return _decoder("GPTNeoXModel", "GPTNeoXConfig", tiny, batch, seq, seed,
                    dict(_TINY, vocab_size=_TINY_VOCAB, max_position_embeddings=64),
                    dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                         vocab_size=50304, max_position_embeddings=2048, rotary_pct=0.25), config)


def mamba(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, **config):
    """Mamba-130M (d_model 768, 24 layers, state 16, expand 2, conv 4): token ids only, no mask."""
    tf, torch = _transformers(), _torch()
    torch.manual_seed(seed)
    cfg = tf.MambaConfig(**_pick(tiny, dict(hidden_size=32, num_hidden_layers=2, vocab_size=_TINY_VOCAB, state_size=4),
                                 dict(hidden_size=768, num_hidden_layers=24, vocab_size=50280, state_size=16),
                                 config), expand=2, conv_kernel=4, use_cache=False)
    model = _hf(tf.MambaModel(cfg))
    return model, _text_inputs(cfg.vocab_size, batch, seq or (8 if tiny else 128), seed, mask=False)


# ---------------------------------------------------------------------------- audio and vision transformers

def whisper_encoder(tiny: bool = False, batch: int = 1, seed: int = 0, **config):
    """The encoder of Whisper-base (d_model 512, 6 layers, 8 heads, 80 mel bins, 3000 frames = 30 s)."""
    tf, torch = _transformers(), _torch()
    torch.manual_seed(seed)
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    cfg = tf.WhisperConfig(**_pick(tiny, dict(d_model=32, encoder_layers=2, encoder_attention_heads=4,
                                              encoder_ffn_dim=64, num_mel_bins=8, max_source_positions=8,
                                              decoder_layers=1, decoder_attention_heads=4, decoder_ffn_dim=64),
                                   dict(d_model=512, encoder_layers=6, encoder_attention_heads=8, encoder_ffn_dim=2048,
                                        num_mel_bins=80, max_source_positions=1500), config), use_cache=False)
    model = WhisperEncoder(cfg).eval()
    model.config.return_dict = False
    frames = 2 * cfg.max_source_positions
    g = torch.Generator().manual_seed(seed + 17)
    return model, (torch.randn(batch, cfg.num_mel_bins, frames, generator=g),)


def _vision(cls_name, cfg_name, tiny, batch, seed, small, full, config, wrap=False):
    tf, torch = _transformers(), _torch()
    torch.manual_seed(seed)
    cfg = getattr(tf, cfg_name)(**_pick(tiny, small, full, config))
    model = getattr(tf, cls_name)(cfg)
    model = _as_tuple(model) if wrap else _hf(model)
    return model, _image(batch, cfg.num_channels, cfg.image_size, seed)


def clip_vision(tiny: bool = False, batch: int = 1, seed: int = 0, **config):
    """The vision tower of CLIP ViT-B/32 (hidden 768, 12 layers, patch 32, quick-GELU, pre-norm)."""
    return _vision("CLIPVisionModel", "CLIPVisionConfig", tiny, batch, seed,
                   dict(_TINY, image_size=32, patch_size=8),
                   dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                        image_size=224, patch_size=32), config)


def vit(tiny: bool = False, batch: int = 1, seed: int = 0, **config):
    """ViT-Base/16 (hidden 768, 12 layers, 224 x 224) with its pooler."""
    return _vision("ViTModel", "ViTConfig", tiny, batch, seed, dict(_TINY, image_size=32, patch_size=8),
                   dict(image_size=224, patch_size=16), config)


def deit(tiny: bool = False, batch: int = 1, seed: int = 0, **config):
    """DeiT-Small/16 (hidden 384, 12 layers, 6 heads) with the distillation token."""
    return _vision("DeiTModel", "DeiTConfig", tiny, batch, seed, dict(_TINY, image_size=32, patch_size=8),
                   dict(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536,
                        image_size=224, patch_size=16), config)


def swin(tiny: bool = False, batch: int = 1, seed: int = 0, **config):
    """Swin-T (embed 96, depths 2-2-6-2, heads 3-6-12-24, window 7, shifted windows)."""
    return _vision("SwinModel", "SwinConfig", tiny, batch, seed,
                   dict(image_size=32, patch_size=2, embed_dim=16, depths=[2, 1], num_heads=[2, 4], window_size=4),
                   dict(image_size=224, patch_size=4, embed_dim=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24],
                        window_size=7), config, wrap=True)


def convnext(tiny: bool = False, batch: int = 1, seed: int = 0, **config):
    """ConvNeXt-T (widths 96-192-384-768, depths 3-3-9-3, 7 x 7 depthwise, layer scale)."""
    return _vision("ConvNextModel", "ConvNextConfig", tiny, batch, seed,
                   dict(image_size=32, hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1]),
                   dict(image_size=224, hidden_sizes=[96, 192, 384, 768], depths=[3, 3, 9, 3]), config, wrap=True)


def mobilevit(tiny: bool = False, batch: int = 1, seed: int = 0, **config):
    """MobileViT-S (transformer widths 144-192-240, 256 x 256): convolutions with unfolded attention."""
    return _vision("MobileViTModel", "MobileViTConfig", tiny, batch, seed,
                   dict(image_size=64, hidden_sizes=[16, 24, 32], neck_hidden_sizes=[8, 8, 16, 16, 24, 32, 64],
                        num_attention_heads=2),
                   dict(image_size=256), config)


def segformer(tiny: bool = False, batch: int = 1, seed: int = 0, **config):
    """The SegFormer-B0 encoder (MiT-b0: widths 32-64-160-256, efficient attention with reduction)."""
    return _vision("SegformerModel", "SegformerConfig", tiny, batch, seed,
                   dict(image_size=64, hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1],
                        num_attention_heads=[1, 1, 2, 2], decoder_hidden_size=32),
                   dict(image_size=224), config)


def efficientnet(tiny: bool = False, batch: int = 1, seed: int = 0, **config):
    """EfficientNet-B0 (width 1.0, depth 1.0, 224 x 224: MBConv with squeeze-excitation, swish)."""
    return _vision("EfficientNetModel", "EfficientNetConfig", tiny, batch, seed,
                   dict(image_size=32, width_coefficient=0.25, depth_coefficient=0.25, hidden_dim=320),
                   dict(image_size=224, width_coefficient=1.0, depth_coefficient=1.0, hidden_dim=1280,
                        dropout_rate=0.2), config)


def regnet(tiny: bool = False, batch: int = 1, seed: int = 0, **config):
    """RegNetY-4.0GF (transformers' default RegNetConfig: widths 128-192-512-1088, group width 64, SE)."""
    return _vision("RegNetModel", "RegNetConfig", tiny, batch, seed,
                   dict(image_size=32, embedding_size=8, hidden_sizes=[16, 32], depths=[1, 1], groups_width=8),
                   dict(image_size=224), config)


# ---------------------------------------------------------------------------- plain torch

def mobilenet_v3(tiny: bool = False, batch: int = 1, image: int | None = None, seed: int = 0,
                 num_classes: int = 1000):
    """MobileNetV3-Large (torchvision's layout: hard-swish, squeeze-excitation with hard-sigmoid)."""
    torch = _torch()
    from torch import nn

    torch.manual_seed(seed)

    def div8(v):
        return max(8, int(v + 4) // 8 * 8)

    class SE(nn.Module):
        def __init__(self, c):
            super().__init__()
            s = div8(c // 4)
            self.fc1, self.fc2 = nn.Conv2d(c, s, 1), nn.Conv2d(s, c, 1)

        def forward(self, x):
            w = nn.functional.adaptive_avg_pool2d(x, 1)
            return x * nn.functional.hardsigmoid(self.fc2(nn.functional.relu(self.fc1(w))))

    def cba(cin, cout, k, stride, groups=1, act=None):
        layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
        return layers + ([act()] if act else [])

    class Block(nn.Module):
        def __init__(self, cin, k, exp, cout, se, hs, stride):
            super().__init__()
            act = nn.Hardswish if hs else nn.ReLU
            layers = cba(cin, exp, 1, 1, act=act) if exp != cin else []
            layers += cba(exp, exp, k, stride, groups=exp, act=act)
            layers += [SE(exp)] if se else []
            layers += cba(exp, cout, 1, 1)
            self.block = nn.Sequential(*layers)
            self.res = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.block(x) if self.res else self.block(x)

    # (kernel, expanded, out, SE, hard-swish, stride)
    large = [(3, 16, 16, 0, 0, 1), (3, 64, 24, 0, 0, 2), (3, 72, 24, 0, 0, 1), (5, 72, 40, 1, 0, 2),
             (5, 120, 40, 1, 0, 1), (5, 120, 40, 1, 0, 1), (3, 240, 80, 0, 1, 2), (3, 200, 80, 0, 1, 1),
             (3, 184, 80, 0, 1, 1), (3, 184, 80, 0, 1, 1), (3, 480, 112, 1, 1, 1), (3, 672, 112, 1, 1, 1),
             (5, 672, 160, 1, 1, 2), (5, 960, 160, 1, 1, 1), (5, 960, 160, 1, 1, 1)]
    small = [(3, 16, 16, 0, 0, 1), (3, 32, 16, 1, 1, 2), (5, 48, 24, 1, 1, 2), (5, 48, 24, 1, 1, 1)]
    cfg, last = (small, 64) if tiny else (large, 1280)
    layers, cin = cba(3, 16, 3, 2, act=nn.Hardswish), 16
    for k, exp, cout, se, hs, stride in cfg:
        layers.append(Block(cin, k, exp, cout, se, hs, stride))
        cin = cout
    layers += cba(cin, 6 * cin, 1, 1, act=nn.Hardswish)

    class MobileNetV3(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(nn.Linear(6 * cin, last), nn.Hardswish(), nn.Dropout(0.2),
                                            nn.Linear(last, 10 if tiny else num_classes))

        def forward(self, x):
            return self.classifier(nn.functional.adaptive_avg_pool2d(self.features(x), 1).flatten(1))

    return _randomize_bn(MobileNetV3(), seed).eval(), _image(batch, 3, image or (32 if tiny else 224), seed)


def _rnn(kind, tiny, batch, seq, seed, features, hidden, layers, bidirectional):
    torch = _torch()
    from torch import nn

    torch.manual_seed(seed)
    features, hidden, seq = (8, 16, seq or 6) if tiny else (features, hidden, seq or 128)
    layers = 2 if tiny else layers
    dirs = 2 if bidirectional else 1

    class Recurrent(nn.Module):
        """A batch-first recurrent encoder that takes and returns its states, with a linear head."""

        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, kind)(features, hidden, layers, batch_first=True, bidirectional=bidirectional)
            self.head = nn.Linear(dirs * hidden, features)

        def forward(self, x, *state):
            state = state if kind == "LSTM" else state[0]
            y, out_state = self.rnn(x, state)
            return (self.head(y),) + (tuple(out_state) if kind == "LSTM" else (out_state,))

    g = torch.Generator().manual_seed(seed + 17)
    x = torch.randn(batch, seq, features, generator=g)
    states = tuple(torch.randn(layers * dirs, batch, hidden, generator=g) for _ in range(2 if kind == "LSTM" else 1))
    return Recurrent().eval(), (x,) + states


def lstm(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, features: int = 256,
         hidden: int = 512, layers: int = 2, bidirectional: bool = True):
    """A 2-layer bidirectional LSTM (256 features, hidden 512, 128 steps, batch_first) with initial
    states h0, c0 as inputs, returning the projected sequence and the final states."""
    return _rnn("LSTM", tiny, batch, seq, seed, features, hidden, layers, bidirectional)


def gru(tiny: bool = False, batch: int = 1, seq: int | None = None, seed: int = 0, features: int = 256,
        hidden: int = 512, layers: int = 2, bidirectional: bool = True):
    """A 2-layer bidirectional GRU (as `lstm`, with the initial state h0)."""
    return _rnn("GRU", tiny, batch, seq, seed, features, hidden, layers, bidirectional)


def unet(tiny: bool = False, batch: int = 1, image: int | None = None, seed: int = 0, channels: int = 3,
         classes: int = 2):
    """The U-Net of Ronneberger et al. (widths 64-128-256-512-1024, double 3 x 3 conv + batch norm,
    max-pool down, transposed-conv up, skip concatenation) on 256 x 256 images."""
    torch = _torch()
    from torch import nn

    torch.manual_seed(seed)
    base, depth = (4, 2) if tiny else (64, 4)

    def double(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                             nn.ReLU(inplace=True), nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [base * 2**i for i in range(depth + 1)]
            self.inc = double(channels, widths[0])
            self.down = nn.ModuleList(double(widths[i], widths[i + 1]) for i in range(depth))
            self.up = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, 2) for i in reversed(range(depth)))
            self.dec = nn.ModuleList(double(2 * widths[i], widths[i]) for i in reversed(range(depth)))
            self.out = nn.Conv2d(widths[0], classes, 1)

        def forward(self, x):
            skips = [self.inc(x)]
            for down in self.down:
                skips.append(down(nn.functional.max_pool2d(skips[-1], 2)))
            y = skips.pop()
            for up, dec in zip(self.up, self.dec):
                y = dec(torch.cat([skips.pop(), up(y)], dim=1))
            return self.out(y)

    return _randomize_bn(UNet(), seed).eval(), _image(batch, channels, image or (32 if tiny else 256), seed)


# ---------------------------------------------------------------------------- inputs

def fresh_inputs(model, inputs, seed: int = 1) -> tuple:
    """New random inputs of the kinds of `inputs`: floats from a normal distribution, the first integer
    input (token ids) uniform in the model's vocabulary (from 2 for RoBERTa-like models, whose id 1 is
    padding), other integer inputs (attention masks) kept as they are."""
    torch = _torch()
    from ..measure.export import vocabulary_size

    g = torch.Generator().manual_seed(seed + 1000)
    vocab = 100
    if any(not x.is_floating_point() for x in inputs):  # some vision models raise in get_input_embeddings
        vocab = vocabulary_size(model) or vocab
    low = 2 if getattr(getattr(model, "config", None), "model_type", "") == "roberta" else 0
    out = []
    for i, x in enumerate(inputs):
        if x.is_floating_point():
            out.append(torch.randn(x.shape, generator=g, dtype=x.dtype))
        elif i == 0:
            out.append(torch.randint(low, vocab, x.shape, generator=g, dtype=x.dtype))
        else:
            out.append(x.clone())
    return tuple(out)
