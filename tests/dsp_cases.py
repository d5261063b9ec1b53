"""Helpers of the DSP kernel tests (tests/test_c_kernels_dsp_*.py): seeded one-op cases batched
into one graph per kernel family (one ELF, one QEMU run) and run on cortex-m4 (DSP), cortex-m3
(portable) and cortex-m55 (MVE); the case builders, which path a lowered case takes, and the
`all_scratch_free` fixture (every conv on its scratch-free twin)."""
from __future__ import annotations


import numpy as np
import pytest

from oplab import act, assert_exact, const, one_op, out_like
from toolchain.ir import Graph
from toolchain.ops import registry
from toolchain.ops.registry import Node
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph

CORES = ["cortex-m4", "cortex-m3", "cortex-m55"]   # DSP, portable, MVE build (DSP kernels)
ACTS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


def batch(graphs: list[Graph]) -> Graph:
    """Independent one-op graphs as one graph (tensors prefixed per case): one ELF for all."""
    tensors, ops, inputs, outputs = [], [], [], []
    for i, g in enumerate(graphs):
        name = {n: f"c{i}_{n}" for n in g.tensors}
        tensors += [t.replace(name=name[n]) for n, t in g.tensors.items()]
        ops += [op.replace(inputs=[name[n] if n else "" for n in op.inputs],
                           outputs=[name[n] for n in op.outputs]) for op in g.ops]
        inputs += [name[n] for n in g.inputs]
        outputs += [name[n] for n in g.outputs]
    return Graph.build(tensors, ops, inputs, outputs).validate()


def random_inputs(graph: Graph, rng) -> list[np.ndarray]:
    return [rng.integers(-128, 128, graph.tensors[n].shape).astype(np.int8)
            for n in graph.inputs]


def check_on_cores(graphs: list[Graph], seed: int, label: str) -> None:
    """Batched cases, reference vs QEMU on every core; failures list every mismatch."""
    for start in range(0, len(graphs), 24):          # the harness takes <= 100 blobs
        graph = batch(graphs[start:start + 24])
        inputs = random_inputs(graph, np.random.default_rng(seed + start))
        want = run_graph(graph, inputs)
        for core in CORES:
            got = get_executor("qemu")(graph, inputs, target=core).outputs
            for i, (w, g) in enumerate(zip(want, got)):
                assert_exact(w, g, f"{label} on {core}: case {start + i} ({graph.outputs[i]})")


def weighted(rng, kind, x_shape, w_shape, axis, attrs, per_channel=True, bias=True, zp=None,
             s_out_div=None, huge_bias=False, dead=False):
    """A conv-like int8 op with symmetric int8 weights and an output scale using the range."""
    zp = int(rng.integers(-60, 61)) if zp is None else zp
    x = act("x", x_shape, "int8", float(rng.uniform(0.01, 0.1)), zp)
    cout = w_shape[axis]
    taps = int(np.prod(w_shape)) // cout
    s_w = rng.uniform(0.002, 0.02, cout if per_channel else 1).astype(np.float32)
    w_data = rng.integers(-127, 128, w_shape).astype(np.int8)
    if dead:                                        # an all-zero filter channel
        np.moveaxis(w_data, axis, 0)[0] = 0
    w = const("w", w_data, scale=s_w, axis=axis if per_channel else None)
    acc_std = 74.0 * 127 * 0.58 * np.sqrt(taps)
    b = None
    if bias or kind == "FULLY_CONNECTED":
        lim = (1 << 30) + 5 if huge_bias else acc_std
        data = rng.integers(-lim, lim + 1, cout).astype(np.int32)
        if huge_bias:
            data[0] = (1 << 30) + 5
        b = const("b", data, scale=np.float32(x.quant.s) * s_w, axis=0 if per_channel else None)
    ins = [x, w, b] if b is not None else [x, w]
    div = rng.uniform(20, 60) if s_out_div is None else s_out_div
    s_out = float(x.quant.s * s_w.mean() * acc_std / div)
    out = out_like(kind, ins, attrs, scale=s_out, zp=int(rng.integers(-128, 30)))
    return one_op(kind, ins, attrs, out)


def conv(rng, x_shape, cout, k, stride=(1, 1), dil=(1, 1), pad="SAME", groups=1, act="RELU",
         **kw):
    attrs = dict(padding=pad, stride=stride, dilation=dil, activation=act)
    return weighted(rng, "CONV_2D", x_shape, (cout, *k, x_shape[3] // groups), 0, attrs, **kw)


def depthwise(rng, x_shape, k=(3, 3), stride=(1, 1), dil=(1, 1), pad="SAME", dm=1, act="RELU",
              **kw):
    attrs = dict(padding=pad, stride=stride, dilation=dil, depth_multiplier=dm, activation=act)
    return weighted(rng, "DEPTHWISE_CONV_2D", x_shape, (1, *k, x_shape[3] * dm), 3, attrs, **kw)


def fully_connected(rng, batches, k, n, act="NONE", **kw):
    attrs = dict(activation=act, keep_num_dims=False)
    return weighted(rng, "FULLY_CONNECTED", (batches, k), (n, k), 0, attrs, **kw)


def lowered(graph: Graph):
    """The op's lowering for a DSP build (what a Cortex-M4 target links)."""
    from toolchain.lowering.cvariant import kernel_variant
    with kernel_variant("dsp"):
        return registry.get(graph.ops[0].kind).lower_c(Node.of(graph, graph.ops[0]))


def path_of(graph: Graph) -> str:
    """Which DSP path the lowering prepared ("int16", "fast", "exact", "lut", "none")."""
    params = lowered(graph).params
    if "lut" in params:
        return "none" if isinstance(params["lut"], str) else "lut"
    if not isinstance(params.get("filter_dsp", "NULL"), str):
        return "int16"
    return "exact" if isinstance(params.get("fast_requant", "NULL"), str) else "fast"


def spatial(rng, kmax=5):
    """(h, w), kernel, stride, dilation, padding with a non-empty output."""
    while True:
        k = tuple(int(v) for v in rng.choice([1, 2, 3, kmax], 2))
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
        dil = tuple(int(v) for v in rng.choice([1, 1, 2], 2))
        pad = str(rng.choice(["SAME", "VALID"]))
        hw = tuple(int(v) for v in rng.integers(1, 11, 2))
        eff = [(kk - 1) * d + 1 for kk, d in zip(k, dil)]
        if pad == "SAME" or all(s >= e for s, e in zip(hw, eff)):
            return hw, k, stride, dil, pad


@pytest.fixture
def all_scratch_free(monkeypatch):
    """`--memory small` with every conv on its scratch-free twin, not only those at the peak
    (a batch of independent cases has one peak)."""
    from toolchain.backends import c as cbackend
    from toolchain.backends.cmemory import scratch_free, without_scratch

    def switch_all(graph, calls, plan, shares, external=()):
        calls = [without_scratch(c) or c for c in calls]
        return calls, plan(calls)
    monkeypatch.setattr(cbackend, "drop_peak_scratch", switch_all)
    with scratch_free(True):
        yield


def conv_cases() -> list[Graph]:
    rng = np.random.default_rng(901)
    cases = [
        conv(rng, (1, 5, 6, 64), 64, (1, 1), act="RELU"),            # KWS pointwise: int16
        conv(rng, (1, 3, 3, 128), 12, (1, 1), act="NONE"),           # depth 128: int8 path
        conv(rng, (1, 7, 5, 16), 16, (3, 3), act="RELU"),            # IC-like 3x3
        conv(rng, (1, 9, 7, 3), 8, (3, 3), stride=(2, 2)),           # RGB stem, C_in % 4
        conv(rng, (1, 11, 6, 1), 12, (5, 4), stride=(2, 2)),         # KWS-like stem
        conv(rng, (2, 4, 5, 8), 8, (1, 1), pad="VALID", stride=(2, 1)),
        conv(rng, (1, 6, 6, 8), 6, (3, 3), groups=2, act="NONE"),    # grouped: portable
        conv(rng, (1, 4, 4, 16), 8, (1, 1), act="RELU6"),            # clamp inside int8
        conv(rng, (1, 4, 3, 8), 8, (1, 1), huge_bias=True),          # bound fails: exact
        conv(rng, (1, 3, 4, 8), 4, (1, 1), s_out_div=1e6),           # multiplier >= 1
        conv(rng, (1, 5, 5, 12), 8, (3, 3), dead=True, act="NONE"),  # all-zero channel
        conv(rng, (1, 5, 5, 12), 8, (3, 3), per_channel=False, bias=False),
    ]
    for i in range(24):
        (h, w), k, stride, dil, pad = spatial(rng)
        cin = int(rng.choice([1, 2, 3, 4, 5, 8, 12, 16, 20]))
        cout = int(rng.choice([1, 3, 4, 5, 8, 12, 16]))
        cases.append(conv(rng, (int(rng.integers(1, 3)), h, w, cin), cout, k, stride, dil, pad,
                          act=ACTS[i % 4], per_channel=i % 5 != 1, bias=i % 3 != 2))
    return cases


def depthwise_cases() -> list[Graph]:
    rng = np.random.default_rng(902)
    cases = [
        depthwise(rng, (1, 25, 5, 64)),                              # KWS
        depthwise(rng, (1, 12, 12, 8), stride=(2, 2)),               # VWW stride 2
        depthwise(rng, (1, 3, 3, 16), act="NONE"),
        depthwise(rng, (1, 1, 1, 4), pad="SAME"),
        depthwise(rng, (1, 2, 7, 12), stride=(1, 2)),
        depthwise(rng, (1, 6, 6, 8), pad="VALID"),
        depthwise(rng, (2, 5, 4, 8), per_channel=False),
        depthwise(rng, (1, 5, 5, 8), act="RELU6"),                   # clamp: portable
        depthwise(rng, (1, 4, 4, 6)),                                # C % 4: portable
        depthwise(rng, (1, 5, 5, 4), dm=2),                          # multiplier: portable
        depthwise(rng, (1, 6, 6, 4), k=(5, 5)),                      # 5x5: portable
        depthwise(rng, (1, 6, 6, 4), dil=(2, 2)),                    # dilation: portable
        depthwise(rng, (1, 4, 4, 8), huge_bias=True),                # no record: portable
        depthwise(rng, (1, 4, 5, 8), dead=True),
        depthwise(rng, (1, 13, 9, 1), k=(5, 4), stride=(2, 2), dm=8),   # one input channel:
        depthwise(rng, (1, 6, 7, 1), dm=3, act="NONE"),                  # lowered as CONV_2D
    ]
    for i in range(16):
        h, w = (int(v) for v in rng.integers(1, 10, 2))
        stride = tuple(int(v) for v in rng.integers(1, 4, 2))
        cases.append(depthwise(rng, (1, h, w, 4 * int(rng.integers(1, 5))), stride=stride,
                               act=ACTS[i % 2], bias=i % 3 != 2))
    return cases
