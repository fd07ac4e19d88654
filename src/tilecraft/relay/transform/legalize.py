"""Legalize: rewrite an operator into others that compute the same numbers much faster
(and 1-D / 3-D convolution and pooling into the 2-D operators: lower_nd.py).

    nn.conv2d_transpose(x, W)   [stride == kernel size, no padding, NCHW / IOHW, W constant]
        ->  reshape(transpose(reshape(nn.conv2d(x, W'), [N, O, sh, sw, H, W]),
                              [0, 1, 4, 2, 5, 3]), [N, O, H*sh, W*sw])
            W'[(o, i, j), c, 0, 0] = W[c, o, i, j]

A transposed convolution whose windows do not overlap (UNet's 2x2 / stride 2 upsampling) gives
every output pixel exactly one kernel tap: it is a 1x1 convolution to O*sh*sw channels followed by
a pixel shuffle (depth to space).  The generic lowering convolves the input dilated by zeros, so
three multiplies in four are by zero, and runs the direct NCHW schedule (45 GFLOP/s on UNet's
decoder); the 1x1 convolution takes the blocked NCHWc kernel after AlterOpLayout.  W' is built
with relay operators on the constant, which FoldConstant folds at compile time.
"""

from __future__ import annotations

from ...transform import module_pass
from ..expr import Call
from ..op.nn import conv2d
from ..op.registry import Op
from ..op.transform import reshape, transpose
from ..visitor import ExprMutator
from .fold_constant import is_constant_expr
from .infer_type import infer_type
from .lower_nd import RULES as LOWER_ND


def _transposed_conv(c: Call, args):
    """NHWC data or a weight in another layout: transposes around an NCHW / IOHW conv2d_transpose
    (the layouts the kernels take); else the pixel-shuffle rewrite where it applies."""
    a = c.attrs
    if a["data_layout"] == "NCHW" and a["kernel_layout"] == "IOHW":
        return _non_overlapping_transposed_conv(c, args)
    x, w = args
    if a["kernel_layout"] != "IOHW":
        w = transpose(w, tuple(a["kernel_layout"].index(k) for k in "IOHW"))
    nhwc = a["data_layout"] == "NHWC"
    y = Call(c.op, (transpose(x, (0, 3, 1, 2)) if nhwc else x, w),
             {**a, "data_layout": "NCHW", "kernel_layout": "IOHW"})
    return transpose(y, (0, 2, 3, 1)) if nhwc else y


def _non_overlapping_transposed_conv(c: Call, args):
    a = c.attrs
    x, w = args
    if (a["data_layout"] != "NCHW" or a["kernel_layout"] != "IOHW" or a.get("groups", 1) != 1
            or tuple(a["dilation"]) != (1, 1) or tuple(a["output_padding"]) != (0, 0) or any(a["padding"])
            or not is_constant_expr(w) or a.get("out_dtype") not in (None, "", c.ty.dtype)):
        return None
    xs, ws = c.args[0].ty.shape, c.args[1].ty.shape
    if not all(isinstance(d, int) for d in (*xs, *ws)):
        return None
    sh, sw = a["strides"]
    cin, cout, kh, kw = ws
    if (kh, kw) != (sh, sw) or (sh, sw) == (1, 1):
        return None
    n, _, h, wd = xs
    w1 = reshape(transpose(w, (1, 2, 3, 0)), (cout * sh * sw, cin, 1, 1))  # [(o, i, j), c, 1, 1]
    y = conv2d(x, w1, channels=cout * sh * sw, kernel_size=(1, 1))
    y = transpose(reshape(y, (n, cout, sh, sw, h, wd)), (0, 1, 4, 2, 5, 3))
    return reshape(y, (n, cout, h * sh, wd * sw))


_RULES = {"nn.conv2d_transpose": _transposed_conv, **LOWER_ND}


class _Legalize(ExprMutator):
    def visit_call(self, c):
        if isinstance(c.op, Op) and c.op.name in _RULES:
            args = self._same(c.args)
            out = _RULES[c.op.name](c, args)
            if out is not None:
                return out
        return super().visit_call(c)


def legalize(func):
    """Rules apply until none does (a rule's output may be another rule's input: conv3d_transpose
    becomes conv3d, which becomes conv2d)."""
    func = infer_type(func)
    for _ in range(8):
        out = _Legalize().visit(func)
        if out is func:
            break
        func = infer_type(out)
    return func


def Legalize():  # noqa: N802  (classic relay.transform name)
    # opt_level 0: 1-D and 3-D convolution and pooling have no kernels but the 2-D ones they become here
    @module_pass(opt_level=0, name="Legalize")
    def run(mod):
        return mod.with_function("main", legalize(mod["main"]))

    return run
