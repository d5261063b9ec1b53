"""The Cortex-M DSP ADD/SUB and FULLY_CONNECTED kernels bit-exact to the numpy reference under
QEMU on cortex-m4 (DSP), cortex-m3 (portable) and cortex-m55: ADD/SUB tables, broadcasts that
fall back, FC rows of 4."""
from __future__ import annotations


import numpy as np

from dsp_cases import ACTS, check_on_cores, fully_connected, path_of
from oplab import act, one_op, out_like
from toolchain.ir import Graph


# ---------------------------------------------------------------------- ADD / SUB

def addsub(rng, kind, shape1, shape2, act="NONE", s_out=None, s_in=None):
    x1 = act_t("a", shape1, rng, s_in)
    x2 = act_t("b", shape2, rng, s_in)
    attrs = dict(activation=act)
    scale = float(rng.uniform(0.02, 0.2)) if s_out is None else s_out
    out = out_like(kind, [x1, x2], attrs, scale=scale, zp=int(rng.integers(-128, 30)))
    return one_op(kind, [x1, x2], attrs, out)


def act_t(name, shape, rng, scale=None):
    scale = float(rng.uniform(0.01, 0.1)) if scale is None else scale
    return act(name, shape, "int8", scale, int(rng.integers(-40, 41)))


def addsub_cases() -> list[Graph]:
    rng = np.random.default_rng(903)
    cases = []
    for i, kind in enumerate(["ADD", "SUB"] * 4):
        cases.append(addsub(rng, kind, (1, 8, 8, 16), (1, 8, 8, 16), act=ACTS[i % 4]))
        cases.append(addsub(rng, kind, (1, 3, 1, 5), (1, 3, 4, 5)))          # broadcast
    # output multiplier in [1/2, 1): no right shift, so no fast record and no table
    cases.append(addsub(rng, "ADD", (1, 4, 4, 4), (1, 4, 4, 4), s_in=0.05, s_out=0.15 / 2**20))
    return cases


def test_addsub_cases_reach_every_path():
    paths = [path_of(g) for g in addsub_cases()]
    assert {"lut", "none"} <= set(paths), paths


def test_addsub_bit_exact_dsp_and_portable():
    check_on_cores(addsub_cases(), 13, "add/sub")


# ---------------------------------------------------------------------- fully connected

def fc_cases() -> list[Graph]:
    rng = np.random.default_rng(904)
    cases = [fully_connected(rng, 1, 640, 128, act="RELU"), fully_connected(rng, 1, 8, 128),
             fully_connected(rng, 1, 64, 12), fully_connected(rng, 3, 37, 10),
             fully_connected(rng, 2, 5, 3, act="RELU6"),
             fully_connected(rng, 1, 16, 8, huge_bias=True),
             fully_connected(rng, 1, 24, 6, per_channel=False)]
    for i in range(12):
        cases.append(fully_connected(rng, int(rng.integers(1, 3)), int(rng.integers(1, 100)),
                                     int(rng.integers(1, 24)), act=ACTS[i % 4]))
    return cases


def test_fully_connected_bit_exact_dsp_and_portable():
    check_on_cores(fc_cases(), 14, "fully connected")
