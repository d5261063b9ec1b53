"""C kernels vs the numpy reference, through ctypes: CONV_2D, DEPTHWISE_CONV_2D,
FULLY_CONNECTED and the pools, int8 (exact) and float32 (within a tolerance), seeded cases."""
from __future__ import annotations

import numpy as np
import pytest

from ckernels import ACTS, check, conv_graph, quant_x, spatial, weighted
from oplab import one_op, out_like


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_conv(lib, dtype):
    rng = np.random.default_rng([1, dtype == "int8"])
    for i in range(30):
        (h, w), k, stride, dil, pad = spatial(rng)
        if i % 6 == 0:        # the in-place 1x1 path
            k, pad = (1, 1), "VALID"
        groups = int(rng.choice([1, 1, 2, 3]))
        cin = groups * int(rng.integers(1, 5))
        cout = groups * int(rng.integers(1, 5))
        graph = conv_graph(rng, dtype, (int(rng.integers(1, 3)), h, w, cin), cout, k, stride,
                           dil, pad, groups, ACTS[i % 4], per_channel=i % 5 != 1,
                           bias=i % 3 != 2)
        check(lib, graph, rng, 1e-5, label=f"case {i}")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_depthwise_conv(lib, dtype):
    rng = np.random.default_rng([2, dtype == "int8"])
    for i in range(30):
        (h, w), k, stride, dil, pad = spatial(rng)
        cin, dm = int(rng.integers(1, 6)), int(rng.choice([1, 1, 2, 3]))
        attrs = dict(padding=pad, stride=stride, dilation=dil, depth_multiplier=dm,
                     activation=ACTS[i % 4])
        x = quant_x(rng, (int(rng.integers(1, 3)), h, w, cin), dtype)
        graph = weighted(rng, dtype, "DEPTHWISE_CONV_2D", x, (1, *k, cin * dm), 3, attrs,
                         i % 5 != 1, i % 3 != 2)
        check(lib, graph, rng, 1e-5, label=f"case {i}")


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_fully_connected(lib, dtype):
    rng = np.random.default_rng([3, dtype == "int8"])
    for i in range(20):
        k, n, batches = int(rng.integers(1, 80)), int(rng.integers(1, 20)), int(rng.integers(1, 4))
        keep = i % 4 == 3
        shape = (batches, 2, k) if keep else (batches, k)
        attrs = dict(activation=ACTS[i % 4], keep_num_dims=keep)
        graph = weighted(rng, dtype, "FULLY_CONNECTED", quant_x(rng, shape, dtype), (n, k), 0,
                         attrs, i % 2 == 0, i % 3 != 2)
        check(lib, graph, rng, 1e-5, label=f"case {i}")


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_pool(lib, kind, dtype):
    rng = np.random.default_rng([4, kind == "MAX_POOL_2D", dtype == "int8"])
    for i in range(20):
        (h, w), k, stride, _, pad = spatial(rng)
        if pad == "VALID":
            h, w = max(h, k[0]), max(w, k[1])
        attrs = dict(padding=pad, stride=stride, filter=k, activation=ACTS[i % 4])
        x = quant_x(rng, (int(rng.integers(1, 3)), h, w, int(rng.integers(1, 6))), dtype)
        scale = None if dtype == "float32" else x.quant.s
        zp = None if dtype == "float32" else x.quant.zp
        graph = one_op(kind, [x], attrs, out_like(kind, [x], attrs, scale=scale, zp=zp))
        check(lib, graph, rng, label=f"case {i}")
