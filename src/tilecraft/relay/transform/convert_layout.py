"""ConvertLayout: run convolutions in the data layout the user asks for (classic
`relay.transform.ConvertLayout({"nn.conv2d": ["NHWC", "default"]})`).

    nn.conv2d(x, W)  [NCHW / OIHW]
        ->  layout_transform(nn.conv2d(layout_transform(x, "NCHW", "NHWC"),
                                       layout_transform(W, "OIHW", "HWIO"), data_layout="NHWC", ...),
                             "NHWC", "NCHW")

The value leaves each convolution in the graph's layout again, so every other operator reads what
it read before; a transform back that feeds a transform forward cancels, so consecutive
convolutions pass the new layout between them.  "default" is the kernel layout that goes with the
data layout (HWIO for NHWC, OIHW for NCHW).  A constant kernel is re-laid out once by the
FoldConstant that classic pipelines run after this pass.
"""

from __future__ import annotations

import logging

from ...transform import module_pass
from ..expr import Call, Function
from ..op.layout import layout_transform
from ..op.registry import Op, get
from ..visitor import ExprMutator
from .infer_type import infer_type

_KERNEL_FOR = {"NCHW": "OIHW", "NHWC": "HWIO"}
_CONVERTIBLE = ("nn.conv2d",)
log = logging.getLogger(__name__)


def _wanted(desired: dict) -> dict:
    out = {}
    for op, layouts in desired.items():
        if op not in _CONVERTIBLE:
            log.warning("ConvertLayout: %s is left in its layout (tilecraft converts %s)", op, ", ".join(_CONVERTIBLE))
            continue
        layouts = [layouts] if isinstance(layouts, str) else list(layouts)
        data = layouts[0]
        kernel = layouts[1] if len(layouts) > 1 else "default"
        if data not in _KERNEL_FOR:
            raise ValueError(f"ConvertLayout: {op} to data layout {data!r} is not supported; use NCHW or NHWC")
        kernel = _KERNEL_FOR[data] if kernel == "default" else kernel
        if kernel != _KERNEL_FOR[data]:
            raise ValueError(f"ConvertLayout: {op} in {data} takes kernel layout {_KERNEL_FOR[data]!r} (or "
                             f"'default'), not {kernel!r}")
        out[op] = (data, kernel)
    return out


def _transform(x, src: str, dst: str):
    """layout_transform(x, src, dst), or y when x is layout_transform(y, dst, src)."""
    if isinstance(x, Call) and x.op is get("layout_transform") and x.attrs["src_layout"] == dst \
            and x.attrs["dst_layout"] == src:
        return x.args[0]
    return layout_transform(x, src, dst)


def convert_layout(func: Function, desired: dict) -> Function:
    wanted = _wanted(desired)

    class Convert(ExprMutator):
        def visit_call(self, c):
            new = super().visit_call(c)
            if not isinstance(new.op, Op) or new.op.name not in wanted:
                return new
            data, kernel = wanted[new.op.name]
            a = new.attrs
            if a["data_layout"] == data or a["groups"] != 1 or a["data_layout"] not in _KERNEL_FOR \
                    or a["kernel_layout"] != _KERNEL_FOR[a["data_layout"]] or a.get("out_layout"):
                return new
            x = _transform(new.args[0], a["data_layout"], data)
            w = _transform(new.args[1], a["kernel_layout"], kernel)
            conv = Call(new.op, (x, w), {**a, "data_layout": data, "kernel_layout": kernel})
            return layout_transform(conv, data, a["data_layout"])

    return infer_type(Function(func.params, Convert().visit(infer_type(func).body), None, func.attrs))


def ConvertLayout(desired_layouts: dict):  # noqa: N802  (classic relay.transform name)
    if not isinstance(desired_layouts, dict):
        raise TypeError("ConvertLayout takes a dict {op name: [data layout, kernel layout]}, e.g. "
                        '{"nn.conv2d": ["NHWC", "default"]}')
    _wanted(desired_layouts)  # bad layouts are an error when the pass is made, not when it runs

    @module_pass(opt_level=3, name="ConvertLayout")
    def run(mod):
        return mod.with_function("main", convert_layout(mod["main"], desired_layouts))

    return run
