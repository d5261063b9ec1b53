"""The Cortex-M DSP kernels (runtime_c/src/dsp) bit-exact to the numpy reference under QEMU.

Seeded random one-op cases are batched into one graph per kernel family (one ELF, one QEMU
run) and run on cortex-m4 (DSP variant), cortex-m3 (portable variant) and cortex-m55 (MVE
variant: Helium conv, DSP kernels elsewhere). The cases
cover each DSP path (int8 and int16 conv, depthwise 4-channel pass, FC rows of 4, ADD/SUB
tables), fused activation clamps on those paths, and what must fall back: grouped convs,
other depthwise shapes, layers whose fast requantization cannot be proven (huge bias,
multiplier >= 1), broadcasts.
Also: the scratch sizes the lowering reserves equal the C kernels' own, and the DSP sources
use SXTB16/SMLAD at -O2.
"""
from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from oplab import act, assert_exact, const, one_op, out_like
from toolchain.lowering import cparams
from toolchain.backends import cruntime
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


# ---------------------------------------------------------------------- convolution

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
        conv(rng, (1, 4, 4, 16), 8, (1, 1), act="RELU6"),            # clamp after SSAT
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


def test_conv_cases_reach_every_path():
    paths = [path_of(g) for g in conv_cases()]
    assert {"int16", "fast", "exact"} <= set(paths), paths


def test_conv_bit_exact_dsp_and_portable():
    check_on_cores(conv_cases(), 11, "conv")


# ---------------------------------------------------------------------- depthwise

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
        depthwise(rng, (1, 5, 5, 8), act="RELU6"),                   # clamp after SSAT
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


def test_depthwise_cases_reach_every_path():
    cases = depthwise_cases()
    paths = [path_of(g) for g in cases if lowered(g).kernel == "fitml_depthwise_conv_s8"]
    assert set(paths) == {"exact"}, paths   # no layout: the DSP kernel reads the int8 filter
    kernels = {lowered(g).kernel for g in cases if g.tensors["x"].shape[3] == 1}
    assert kernels == {"fitml_conv_s8"}, kernels


def test_depthwise_bit_exact_dsp_and_portable():
    check_on_cores(depthwise_cases(), 12, "depthwise")


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


# ---------------------------------------------------------------------- scratch and build

@pytest.fixture(scope="module")
def host_lib(tmp_path_factory):
    out = tmp_path_factory.mktemp("dsp_scratch")
    return ctypes.CDLL(str(cruntime.build_host_library(
        out, ["fitml_conv_s8", "fitml_depthwise_conv_s8"], sanitize=False)))


@pytest.mark.parametrize("family", ["conv", "depthwise"])
def test_scratch_sizes_match_c(host_lib, family):
    """The planner reserves the lowering's scratch_bytes; every kernel variant asks for it."""
    cases = conv_cases() if family == "conv" else depthwise_cases()
    for i, graph in enumerate(cases):
        call = lowered(graph)
        params, _ = cruntime.to_ctypes(call.params_type, call.params,
                                       lambda n: graph.tensors[n].data)
        fn = getattr(host_lib, f"{call.kernel}_scratch_size")
        fn.restype = ctypes.c_size_t
        assert fn(ctypes.byref(params)) == call.scratch_bytes, f"{family} case {i}"


def test_mve_sources_build_warning_free(tmp_path):
    """The Cortex-M55 variant (MVE conv, DSP kernels elsewhere) at -O2, warning-free."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.fail("arm-none-eabi-gcc not installed")
    flags = ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard", "-O2"]
    for src in sorted((cruntime.runtime_dir() / "src" / "mve").glob("fitml_*.c")):
        cmd = ["arm-none-eabi-gcc", *cruntime.C99_WARNINGS, *flags,
               f"-I{cruntime.include_dir()}", "-c", str(src), "-o", str(tmp_path / "x.o")]
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0 and not result.stderr, f"{cmd}\n{result.stderr}"


def test_dsp_sources_use_dual_mac_instructions(tmp_path):
    """At -O2 for Cortex-M4 the DSP kernels are SXTB16 + SMLAD code, warning-free."""
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.fail("arm-none-eabi-gcc not installed")
    dsp = sorted((cruntime.runtime_dir() / "src" / "dsp").glob("fitml_*.c"))
    assert dsp, "no DSP kernels"
    flags = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2"]
    for src in dsp:
        obj = tmp_path / f"{src.stem}.o"
        cmd = ["arm-none-eabi-gcc", *cruntime.C99_WARNINGS, *flags,
               f"-I{cruntime.include_dir()}", "-c", str(src), "-o", str(obj)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 0 and not result.stderr, f"{cmd}\n{result.stderr}"
        text = subprocess.run(["arm-none-eabi-objdump", "-d", str(obj)], capture_output=True,
                              text=True, check=True).stdout
        if src.stem in ("fitml_conv_s8", "fitml_depthwise_conv_s8",
                        "fitml_fully_connected_s8"):
            assert "sxtb16" in text and ("smlad" in text or "smlabb" in text), src.name


def test_portable_builds_carry_no_dsp_arrays():
    """M0/M3/host builds link portable kernels: no int16 layouts or ADD tables in their flash."""
    rng = np.random.default_rng(5)
    graph = fully_connected(rng, 1, 64, 16)
    params = registry.get("FULLY_CONNECTED").lower_c(Node.of(graph, graph.ops[0])).params
    assert params["filter_dsp"] == "NULL"
    assert path_of(graph) == "int16"


# ---------------------------------------------------------------------- scratch-free conv

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


def noscratch_cases() -> list[Graph]:
    """conv_cases plus shapes aimed at the DSP scratch-free paths: pixel pairs (VALID), padded
    borders, C_in % 4 tails, odd C_out, row dilation (DSP) and column dilation (portable)."""
    rng = np.random.default_rng(905)
    return conv_cases() + [
        conv(rng, (1, 12, 10, 1), 8, (5, 4), stride=(2, 2)),         # micro_speech-like stem
        conv(rng, (1, 6, 9, 5), 3, (3, 3), pad="VALID", act="NONE"),
        conv(rng, (1, 7, 8, 6), 5, (3, 2), dil=(2, 1), act="RELU6"),
        conv(rng, (1, 7, 8, 4), 4, (3, 3), dil=(1, 2)),              # dilated columns: portable
        conv(rng, (1, 9, 11, 7), 7, (2, 3), stride=(3, 3), pad="VALID"),
        conv(rng, (2, 5, 7, 16), 9, (1, 1), pad="VALID", act="NONE"),
    ]


def noscratch_path(graph: Graph) -> str:
    """Which way the DSP scratch-free conv takes a case (mirrors fitml_dsp_direct.h)."""
    op, x, w = graph.ops[0], graph.tensors["x"], graph.tensors["w"]
    if w.shape[3] != x.shape[3] or op.attrs["dilation"][1] != 1:
        return "portable"
    if op.attrs["padding"] == "VALID" and graph.tensors[op.outputs[0]].shape[2] >= 2:
        return "pairs"
    return "borders" if w.shape[2] > 1 and op.attrs["padding"] == "SAME" else "single"


def test_noscratch_cases_reach_every_path():
    cases = noscratch_cases()
    paths = [noscratch_path(g) for g in cases]
    assert {"portable", "pairs", "borders"} <= set(paths), paths
    dsp = [g for g, p in zip(cases, paths) if p != "portable"]
    assert any(g.tensors["w"].shape[0] % 2 for g in dsp)            # odd C_out
    assert any(g.tensors["x"].shape[3] % 4 for g in dsp)            # C_in tail
    assert any(g.ops[0].attrs["dilation"][0] > 1 for g in dsp)      # dilated rows


def test_noscratch_conv_bit_exact_dsp_and_portable(all_scratch_free):
    from toolchain.backends.c import lower
    cases = noscratch_cases()
    for start in range(0, len(cases), 24):
        names = [c.kernel for c in lower(batch(cases[start:start + 24]), variant="dsp").calls]
        assert names.count("fitml_conv_s8_noscratch") >= len(names) - 2, names
    check_on_cores(cases, 15, "scratch-free conv")
    graph = batch(cases[:24])
    inputs = random_inputs(graph, np.random.default_rng(16))
    got = get_executor("host")(graph, inputs).outputs
    for i, (w, g) in enumerate(zip(run_graph(graph, inputs), got)):
        assert_exact(w, g, f"scratch-free conv on host: case {i}")


@pytest.mark.parametrize("seed", range(2))
def test_fused_conv_add_bit_exact_dsp_and_portable(seed):
    """Residual ADDs fused into their convs (written over the residual), `--memory small`."""
    from test_memory_bounds import residual_net
    from toolchain.backends.c import lower
    from toolchain.backends.cmemory import scratch_free
    graph = residual_net(np.random.default_rng([7, seed]))
    assert "fitml_conv_add_s8" in {c.kernel for c in lower(graph, scratch_free=True).calls}
    inputs = random_inputs(graph, np.random.default_rng(seed))
    want = run_graph(graph, inputs)
    with scratch_free(True):
        for core in ("cortex-m4", "cortex-m3"):
            got = get_executor("qemu")(graph, inputs, target=core).outputs
            assert_exact(want[0], got[0], f"fused conv+ADD seed {seed} on {core}")
