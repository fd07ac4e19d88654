"""input_infos, how a PyTorch importer is told the model's inputs: `[("name", shape)]` or
`[("name", (shape, dtype))]`.  Both importers (TorchScript and torch.export) check it here, once,
so a bad entry is named before anything is converted."""

from __future__ import annotations

from ...ir.dtype import canonical
from ..ty import TensorType
from .aten import dtype_str

SPELLING = 'expected [("name", (1, 3, 224, 224))] or [("name", ((1, 128), "int64"))], one entry per input'


def normalize_input_infos(input_infos, default_dtype: str | None) -> list:
    """[(name, shape, dtype)], every entry checked here once: a bad entry would otherwise fail deep in
    the importer (or build a graph of negative shapes) with an error that names no input.  An entry
    that gives only a shape gets default_dtype; with default_dtype None its dtype is left None for
    the importer to take from the model (the traced graph or the exported program)."""
    if isinstance(input_infos, dict):
        input_infos = list(input_infos.items())
    if not isinstance(input_infos, (list, tuple)):
        raise TypeError(f"input_infos must be a list of (name, shape) pairs, got {input_infos!r}; {SPELLING}")
    out = []
    for i, info in enumerate(input_infos):
        def bad(why, info=info, i=i):
            return ValueError(f"input_infos[{i}] = {info!r}: {why}; {SPELLING}")

        if not isinstance(info, (tuple, list)) or len(info) != 2 or not isinstance(info[0], str):
            raise bad("each entry is a (name, shape) pair whose name is a str")
        name, spec = info
        if isinstance(spec, TensorType):
            shape, dtype = spec.shape, spec.dtype
        elif (isinstance(spec, (tuple, list)) and len(spec) == 2 and not _is_dim(spec[1])
              and isinstance(spec[0], (tuple, list))):
            shape, dtype = spec
        else:
            shape, dtype = spec, default_dtype
        if not isinstance(shape, (tuple, list)) or not all(_is_dim(d) for d in shape):
            raise bad(f"the shape of {name!r} must be a tuple of non-negative ints, got {shape!r}")
        if dtype is None:
            dtype = default_dtype
            if dtype is None:
                out.append((name, tuple(int(d) for d in shape), None))
                continue
        try:
            dtype = canonical(dtype_str(dtype, demote=False))
        except (TypeError, ValueError) as err:
            raise bad(f"the dtype of {name!r}: {err}") from None
        out.append((name, tuple(int(d) for d in shape), dtype))
    return out


def _is_dim(d) -> bool:
    return hasattr(d, "__index__") and not isinstance(d, bool) and int(d.__index__()) >= 0


def defaulted_note(defaulted) -> str:
    """What to add to an error that may follow from input dtypes the importer had to assume."""
    names = ", ".join(f"{n!r}" for n, _, _ in defaulted)
    n, shape, dt = defaulted[0]
    return (f"note: input(s) {names} were typed {dt} by default, because input_infos gave only a shape and "
            f"the graph records no dtype; if an input holds integers (token ids, indices, masks), pass its "
            f"dtype, e.g. ({n!r}, ({shape}, \"int64\"))")
