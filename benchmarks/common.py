"""Shared measuring helpers: medians after warm-up, side by side, and a plain-text table."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])

import tilecraft  # noqa: E402,F401  (before torch loads OpenMP: libgomp's spin setting, see tilecraft/__init__)


def median_seconds(fn, repeat: int = 7, min_time: float = 0.2, warmup: int = 2, warmup_time: float = 1.0) -> float:
    """Median seconds per call (tilecraft.measure.latency: repeats after a warm-up of at least
    `warmup_time` seconds, for every system alike: right after a compile on one core, this host ran a
    10 ms model 1.5x slower for the next ~0.7 s)."""
    from tilecraft.measure import latency

    return latency(fn, repeat, min_time, warmup, warmup_time).median


def table(rows: list, header: list) -> str:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def interleaved(fns, rounds: int) -> list:
    """Median seconds of each function (None: skipped) over `rounds` rounds, the functions taking
    turns in each round, so a slow spell of the machine (a shared host) hits all of them alike."""
    import numpy as np

    times = [[] for _ in fns]
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            if fn is not None:
                times[k].append(median_seconds(fn))
    return [float(np.median(t)) if t else None for t in times]


def onnxruntime_run(model, inputs, threads: int, reference=None, atol=1e-3, rtol=1e-3):
    """(run function or None, note): torch.onnx.export (the TorchScript exporter, then the dynamo one)
    and an ONNX Runtime session on `threads` threads; the note says why there is none, or that its
    first output differs from `reference` (PyTorch's outputs, a list of arrays).  The model is called
    behind forward(*inputs): a transformers model exported directly receives use_cache twice."""
    import contextlib
    import io
    import tempfile
    import warnings

    import numpy as np
    import torch

    try:
        import onnxruntime as ort
    except ImportError:
        return None, "onnxruntime not installed"

    class FirstOutputs(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *xs):
            out = self.inner(*xs)
            return tuple(out) if isinstance(out, (tuple, list)) else out

    names = [f"in{i}" for i in range(len(inputs))]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess, why = None, ""
    tmp = tempfile.TemporaryDirectory()  # a file, not bytes: over 2 GB the weights go to external data
    for dynamo in (False, True):  # an exporter lacks an operator, or writes a file onnxruntime refuses: the other
        file = os.path.join(tmp.name, f"model{int(dynamo)}.onnx")
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                torch.onnx.export(FirstOutputs(model), tuple(inputs), file, input_names=names, opset_version=17,
                                  dynamo=dynamo, external_data=True)
        except Exception as err:  # noqa: BLE001
            why = "torch.onnx.export failed: " + (str(err).splitlines()[0][:100] if str(err) else type(err).__name__)
            continue
        try:
            sess = ort.InferenceSession(file, opts, providers=["CPUExecutionProvider"])
            break
        except Exception as err:  # noqa: BLE001
            why = "onnxruntime refuses the exported file: " + str(err).splitlines()[0][:100]
    tmp.cleanup()  # the session holds the weights it read
    if sess is None:
        return None, why
    feed = {i.name: x.numpy() for i, x in zip(sess.get_inputs(), inputs)}
    got = sess.run(None, feed)
    ok = reference is None or (bool(got) and got[0].shape == reference[0].shape
                               and np.allclose(got[0], reference[0], atol=atol, rtol=rtol))
    return (lambda: sess.run(None, feed)), ("" if ok else "ORT output differs from PyTorch")
