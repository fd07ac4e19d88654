"""One recurrent layer in one direction over a whole sequence (topi.nn.recurrent).

The input projection of every timestep does not depend on the state, so the caller computes it
beforehand as one matrix product over [T*B, I] x [I, G*H] (a dense that uses the tuned dense
schedule) and passes it here as `xw` [T, B, G*H], input bias included.  What is left is the
recurrence, a loop over time that cannot be parallelised: this is a `te.extern` stage whose body
(tir.ir_builder) is that loop, so the program stays the same size for any sequence length.

Per timestep t (t runs T-1 .. 0 when `reverse`), with hh = h @ w_hh^T + b_hh ([B, G*H]):

    LSTM (gates i, f, g, o)  i = sig(x_i + hh_i)  f = sig(x_f + hh_f)  g = tanh(x_g + hh_g)
                             o = sig(x_o + hh_o)  c = f * c + i * g     h = o * tanh(c)
    GRU  (gates r, z, n)     r = sig(x_r + hh_r)  z = sig(x_z + hh_z)
                             n = tanh(x_n + r * hh_n)                   linear_before_reset (PyTorch)
                             n = tanh(x_n + (r * h) @ w_hn^T + b_hn)    otherwise (ONNX's default)
                             h = (1 - z) * n + z * h
    RNN_TANH / RNN_RELU      h = act(x + hh)

Gate order is PyTorch's; the ONNX importer reorders ONNX's (LSTM i,o,f,c; GRU z,r,h).  Outputs:
y [T, B, H] (y[t] is the state after step t, in the input's time order whichever the
direction), h_n [B, H], and c_n [B, H] for LSTM.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from ... import te
from ...ir.expr import const, max_
from ...tir import ir_builder, sigmoid, tanh
from ..utils import first_divisor

GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
# Below this many multiply-adds per step, starting the threads costs more than they save.
_PARALLEL_MIN_MACS = 1 << 16
_LANES = 16


@contextmanager
def _columns(ib, n, over_vectors="serial"):
    """A loop over j in [0, n): vectors of _LANES (vectorized inner loop) when they divide n, the
    loop over the vectors of kind `over_vectors` ("unroll": a local block stays in registers)."""
    if n % _LANES:
        with ib.for_range(0, n, name="j") as j:
            yield j
        return
    with ib.for_range(0, n // _LANES, name="jo", kind=over_vectors) as jo:
        with ib.for_range(0, _LANES, name="ji", kind="vectorize") as ji:
            yield jo * _LANES + ji


def _block(H: int) -> int:
    """The matrix-vector product's column block (it divides H, hence 2H and G*H), or 0: scalar loops."""
    return first_divisor(H, (128, 64, 32, 16), 0) if H % _LANES == 0 else 0


def packed_weight_layout(hidden_size: int) -> str:
    """The layout the kernel reads w_hh in: "NC<b>n" panels [G*H / b, H, b] (w_hh^T split into
    column blocks of b, one per parallel block of the matrix-vector product), or "CN" (w_hh^T)
    when no block divides H.  AlterOpLayout packs a constant w_hh so once, at compile time."""
    b = _block(hidden_size)
    return f"NC{b}n" if b else "CN"


def weight_shape(layout: str, gh: int, h: int) -> tuple:
    """w_hh's shape in `layout`: "NC" [G*H, H] as given, "CN" its transpose, "NC<b>n" panels
    [G*H / b, H, b] (packed_weight_layout's)."""
    if layout == "NC":
        return (gh, h)
    if layout == "CN":
        return (h, gh)
    m = re.fullmatch(r"NC(\d+)n", layout)
    if m is None or gh % int(m.group(1)):
        raise ValueError(f"recurrent: weight_layout must be 'NC', 'CN' or 'NC<b>n' with b dividing {gh}, "
                         f"got {layout!r}")
    b = int(m.group(1))
    return (gh // b, h, b)


def recurrent(xw, w_hh, b_hh, h0, c0=None, mode: str = "LSTM", reverse: bool = False,
              linear_before_reset: bool = True, weight_layout: str = "NC"):
    """[y, h_n] (and c_n for LSTM) of one recurrent layer; see the module docstring.  weight_layout:
    "NC" (w_hh as given, [G*H, H], packed inside the kernel) or packed_weight_layout(H)."""
    if mode not in GATES:
        raise ValueError(f"recurrent: mode must be one of {', '.join(GATES)}, got {mode!r}")
    if (mode == "LSTM") != (c0 is not None):
        raise ValueError("recurrent: an LSTM takes an initial cell state c0, the other modes do not")
    T, B, GH = (int(s) for s in xw.shape)
    H = int(h0.shape[1])
    G = GATES[mode]
    block = _block(H)
    packed = packed_weight_layout(H)
    if weight_layout not in ("NC", packed):
        raise ValueError(f"recurrent {mode}: weight_layout must be 'NC' or {packed!r} for hidden size {H}, "
                         f"got {weight_layout!r}")
    if GH != G * H or tuple(int(s) for s in w_hh.shape) != weight_shape(weight_layout, GH, H):
        raise ValueError(f"recurrent {mode}: xw {tuple(xw.shape)} / w_hh {tuple(w_hh.shape)} ({weight_layout}) do "
                         f"not match {G} gates of hidden size {H}")
    dtype = xw.dtype
    inputs = [xw, w_hh, b_hh, h0] + ([c0] if c0 is not None else [])
    shapes = [(T, B, H), (B, H)] + ([(B, H)] if c0 is not None else [])

    def body(ins, outs):
        ib = ir_builder.create()
        X, W, BH, H0 = (ib.buffer_ptr(b) for b in ins[:4])
        Y, HN = ib.buffer_ptr(outs[0]), ib.buffer_ptr(outs[1])
        C0 = ib.buffer_ptr(ins[4]) if c0 is not None else None
        CN = ib.buffer_ptr(outs[2]) if c0 is not None else None
        hh = ib.allocate(dtype, (B, GH), name="hh")
        rh = ib.allocate(dtype, (B, H), name="rh") if mode == "GRU" and not linear_before_reset else None
        one = const(1.0, dtype)

        with ib.for_range(0, B, name="b") as b:
            with ib.for_range(0, H, name="j") as j:
                HN[b, j] = H0[b, j]
                if CN is not None:
                    CN[b, j] = C0[b, j]

        def matvec(b, rows_from, rows_to, src):
            """hh[b, j] = b_hh[j] + sum_k src[b, k] * w_hh[j, k] for j in [rows_from, rows_to), as
            axpys over the rows of w_hh^T (contiguous, vectorizable, no reduction across lanes).
            Every step streams all of w_hh (4 MB for an LSTM of 512): the rows are split in blocks
            of up to 128 columns that run in parallel, each summed in vector registers (a local
            block, unrolled by vectors) rather than through memory at every k."""
            rows = rows_to - rows_from
            if not block:
                with ib.for_range(rows_from, rows_to, name="j") as j:
                    hh[b, j] = BH[j]
                with ib.for_range(0, H, name="k") as k:
                    with ib.for_range(rows_from, rows_to, name="j") as j:
                        hh[b, j] = hh[b, j] + src[b, k] * W[k, j]
                return
            kind = "parallel" if rows // block > 1 and rows * H >= _PARALLEL_MIN_MACS else "serial"
            with ib.for_range(0, rows // block, name="jb", kind=kind) as jb:
                lo = rows_from + jb * block
                panel = rows_from // block + jb
                acc = ib.allocate(dtype, (block,), name="acc", scope="local")
                with _columns(ib, block, "unroll") as j:
                    acc[j] = BH[lo + j]
                with ib.for_range(0, H, name="k") as k:
                    with _columns(ib, block, "unroll") as j:
                        acc[j] = acc[j] + src[b, k] * W[panel, k, j]
                with _columns(ib, block, "unroll") as j:
                    hh[b, lo + j] = acc[j]

        with ib.for_range(0, T, name="s") as s:
            t = (T - 1 - s) if reverse else s
            with ib.for_range(0, B, name="b") as b:
                if mode == "GRU" and not linear_before_reset:
                    matvec(b, 0, 2 * H, HN)
                    with ib.for_range(0, H, name="j") as j:
                        rh[b, j] = sigmoid(X[t, b, j] + hh[b, j]) * HN[b, j]
                    matvec(b, 2 * H, GH, rh)
                else:
                    matvec(b, 0, GH, HN)
                with _columns(ib, H) as j:  # vector lanes: sigmoid and tanh become vector polynomials
                    def gate(g):
                        return X[t, b, g * H + j] + hh[b, g * H + j]

                    if mode == "LSTM":
                        CN[b, j] = sigmoid(gate(1)) * CN[b, j] + sigmoid(gate(0)) * tanh(gate(2))
                        HN[b, j] = sigmoid(gate(3)) * tanh(CN[b, j])
                    elif mode == "GRU":
                        if linear_before_reset:
                            n = tanh(X[t, b, 2 * H + j] + sigmoid(gate(0)) * hh[b, 2 * H + j])
                        else:
                            n = tanh(gate(2))
                        z = sigmoid(gate(1))
                        HN[b, j] = (one - z) * n + z * HN[b, j]
                    elif mode == "RNN_TANH":
                        HN[b, j] = tanh(gate(0))
                    else:
                        HN[b, j] = max_(gate(0), const(0.0, dtype))
                    Y[t, b, j] = HN[b, j]
        return ib.get()

    # w_hh not packed yet (a weight computed at run time): packed here, once per call
    if weight_layout == "NC" and block:  # panels [G*H / block, H, block]: a parallel block streams one
        inputs[1] = te.compute((GH // block, H, block), lambda p, k, j: w_hh[p * block + j, k],
                               name=f"{mode.lower()}_w_hh_panels")
    elif weight_layout == "NC":  # w_hh^T [H, G*H], so that the loop over gates reads it contiguously
        inputs[1] = te.compute((H, GH), lambda k, j: w_hh[j, k], name=f"{mode.lower()}_w_hh_t")
    outs = te.extern(shapes, inputs, body, name=f"{mode.lower()}_recurrence", dtype=dtype,
                     tag="recurrent")
    return outs


__all__ = ["packed_weight_layout", "recurrent", "weight_shape"]
