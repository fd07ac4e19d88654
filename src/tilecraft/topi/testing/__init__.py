"""numpy reference implementations of operators, as classic tests import them
(`tvm.topi.testing.conv2d_nchw_python(...)`): plain, slow-but-obvious numpy, independent of the
tensor-expression code they check."""

from .common import (  # noqa: F401
    compare_numpy_tvm,
    dispatch,
    get_broadcast_schedule,
    get_conv2d_nchw_implement,
    get_elemwise_schedule,
    get_injective_schedule,
    get_reduce_schedule,
)
from .conv import (  # noqa: F401
    conv1d_ncw_python,
    conv1d_nwc_python,
    conv1d_transpose_ncw_python,
    conv2d_hwcn_python,
    conv2d_nchw_python,
    conv2d_nhwc_python,
    conv2d_transpose_nchw_python,
    conv2d_transpose_nhwc_python,
    conv3d_ncdhw_python,
    conv3d_ndhwc_python,
    conv3d_transpose_ncdhw_python,
    conv_nd_python,
    depthwise_conv2d_python_nchw,
    depthwise_conv2d_python_nhwc,
    dilate_python,
)
from .nn import (  # noqa: F401
    adaptive_pool,
    batch_matmul,
    batch_norm,
    dense,
    gather_nd_python,
    gather_python,
    group_norm_python,
    instance_norm_python,
    l2_normalize_python,
    layer_norm_python,
    log_softmax_python,
    lrn_python,
    matmul,
    one_hot,
    pool2d_python,
    poolnd_python,
    slice_axis_python,
    softmax_python,
    strided_slice_python,
)
from .resize import resize2d_python, resize3d_python, upsampling_python  # noqa: F401
