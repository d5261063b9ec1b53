"""Patch-based partitioning (PATCHED_STAGE, passes/partition.py): the patched reference equals
the unsplit ops' reference bit for bit (random small CNNs over shapes, strides, dilations,
paddings, grids and residual branches; the real models), the generated C equals it on the host
(ASan/UBSan) and under QEMU, the planner's anchored buffers keep their invariants, the search
meets budgets, and `fitml check/compile/verify` use it."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cli_util import fitml, one_clear_line, write_board
from conftest import shared_model
from models import INT8_MODELS, random_inputs as model_inputs, sample_inputs
from oplab import assert_close, assert_exact
from toolchain.frontends.tflite import load_tflite
from toolchain.ir import Graph, GraphError, Op, QuantParams, Tensor
from toolchain.ops import patch_geometry as pg
from toolchain.ops.patched_stage import KIND
from toolchain.ops.windows import output_hw
from toolchain.passes.partition import apply, apply_stages, parse_mode, unpartition
from toolchain.backends.cpartition import arena_peak, search
from toolchain.passes.partition_search import estimate, total_macs
from toolchain.plan.arena import ArenaPlanner, Buffer, check_no_overlap
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph

needs_arm = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="Cortex-M toolchain or qemu-system-arm missing: run ./setup.sh")
VWW = "mlperf_tiny/vww/vww_96_int8.tflite"
IC = "mlperf_tiny/ic/pretrainedResnet_quant.tflite"
KWS = "mlperf_tiny/kws/kws_ref_model_int8.tflite"


# ------------------------------------------------------------------ random small CNNs

class CNN:
    """A random NHWC CNN built op by op (int8 with per-channel weights, or float32). int8 output
    scales follow the accumulators' expected spread (about 40 steps of standard deviation), so
    activations stay varied instead of saturating."""

    SPREAD = 40.0

    def __init__(self, rng, shape, dtype="int8"):
        self.rng, self.dtype, self.tensors, self.ops, self.n = rng, dtype, [], [], 0
        self.x = self.act(shape, scale=0.05, zp=int(rng.integers(-10, 11)))
        self.inputs = [self.x.name]
        self.sigma = {self.x.name: 74.0}      # std of the codes around the zero point

    def act(self, shape, scale=None, zp=None) -> Tensor:
        self.n += 1
        quant = None
        if self.dtype == "int8":
            quant = QuantParams(scale, int(self.rng.integers(-20, 21)) if zp is None else zp)
        t = Tensor(f"t{self.n}", tuple(shape), self.dtype, quant=quant)
        self.tensors.append(t)
        return t

    def const(self, data, scale=None, axis=None) -> Tensor:
        self.n += 1
        quant = None if scale is None else QuantParams(np.asarray(scale, np.float32),
                                                       np.zeros(np.size(scale), np.int64), axis)
        t = Tensor(f"c{self.n}", data.shape, str(data.dtype), data=data, quant=quant)
        self.tensors.append(t)
        return t

    def add_op(self, kind, ins, attrs, out_shape, sigma=SPREAD, **quant) -> Tensor:
        out = self.act(out_shape, **quant)
        self.ops.append(Op(kind, [t.name if t is not None else "" for t in ins], [out.name],
                           attrs))
        self.sigma[out.name] = sigma
        return out

    def conv(self, x, depthwise: bool) -> Tensor | None:
        r = self.rng
        kh, kw = int(r.integers(1, 4)), int(r.integers(1, 4))
        stride = tuple(int(v) for v in r.choice([1, 2], 2, p=[0.7, 0.3]))
        dil = (int(r.integers(1, 3)), 1) if r.random() < 0.2 else (1, 1)
        padding = "SAME" if r.random() < 0.7 else "VALID"
        c = x.shape[3]
        dm = int(r.integers(1, 3)) if depthwise else 1
        cout = c * dm if depthwise else int(r.integers(1, 6))
        try:
            oh, ow = output_hw("T", x.shape[1:3], (kh, kw), stride, dil, padding)
        except GraphError:
            return None
        wshape = (1, kh, kw, cout) if depthwise else (cout, kh, kw, c)
        attrs = dict(padding=padding, stride=stride, dilation=dil,
                     activation=str(r.choice(["NONE", "RELU", "RELU6"])))
        if depthwise:
            attrs["depth_multiplier"] = dm
        kind = "DEPTHWISE_CONV_2D" if depthwise else "CONV_2D"
        if self.dtype == "int8":
            w = self.const(r.integers(-127, 128, wshape).astype(np.int8),
                           r.uniform(0.002, 0.02, cout), 3 if depthwise else 0)
            s_acc = x.quant.s * float(np.mean(w.quant.scale))
            b = self.const(r.integers(-3000, 3001, cout).astype(np.int32), s_acc * np.ones(cout),
                           0)
            taps = kh * kw * (1 if depthwise else c)
            spread = np.sqrt(taps) * 73.0 * self.sigma[x.name]
            return self.add_op(kind, [x, w, b], attrs, (1, oh, ow, cout),
                               scale=s_acc * spread / self.SPREAD)
        w = self.const(r.standard_normal(wshape).astype(np.float32))
        b = self.const(r.standard_normal(cout).astype(np.float32)) if r.random() < 0.7 else None
        return self.add_op(kind, [x, w, b], attrs, (1, oh, ow, cout))

    def pool(self, x) -> Tensor | None:
        r = self.rng
        filt, stride = (int(r.integers(1, 4)), int(r.integers(1, 4))), (int(r.integers(1, 3)),) * 2
        padding = "SAME" if r.random() < 0.6 else "VALID"
        try:
            oh, ow = output_hw("T", x.shape[1:3], filt, stride, (1, 1), padding)
        except GraphError:
            return None
        q = {} if self.dtype != "int8" else dict(scale=x.quant.s, zp=x.quant.zp)
        return self.add_op("MAX_POOL_2D", [x], dict(padding=padding, stride=stride, filter=filt,
                                                    activation="NONE"), (1, oh, ow, x.shape[3]),
                           self.sigma[x.name], **q)

    def add(self, x, y) -> Tensor:
        q = {} if self.dtype != "int8" else dict(scale=max(x.quant.s, y.quant.s) * 1.5)
        return self.add_op("ADD", [x, y], dict(activation="NONE"), x.shape, **q)

    def graph(self, out: Tensor) -> Graph:
        graph = Graph.build(self.tensors, self.ops, self.inputs, [out.name]).validate()
        return graph if self.dtype != "int8" else calibrate(graph, self.rng)


def calibrate(graph: Graph, rng) -> Graph:
    """Output scales adjusted op by op on one random input until the codes neither saturate
    (<= 5%) nor collapse (std >= 12 steps): otherwise a wrong tap could hide in a clamp."""
    x = rng.integers(-128, 128, graph.tensors[graph.inputs[0]].shape).astype(np.int8)
    tensors = dict(graph.tensors)
    for op in graph.ops:
        name = op.outputs[0]
        if op.kind == "MAX_POOL_2D":           # TFLM: output quantization = input's
            tensors[name] = tensors[name].replace(quant=tensors[op.inputs[0]].quant)
            continue
        for _ in range(10):
            v = run_graph(graph.replace(tensors=tensors), [x], keep_all=True)[name]
            q = tensors[name].quant
            factor = 2.0 if np.mean((v == 127) | (v == -128)) > 0.05 else \
                0.5 if np.std(v.astype(np.float64)) < 12 else None
            if factor is None:
                break
            tensors[name] = tensors[name].replace(quant=QuantParams(q.s * factor, q.zp))
    return graph.replace(tensors=tensors).validate()


def random_cnn(seed: int, dtype="int8") -> Graph:
    """4 to 7 spatial ops; same-shape tensors may meet again in an ADD (residual branches)."""
    rng = np.random.default_rng(seed)
    net = CNN(rng, (1, int(rng.integers(8, 17)), int(rng.integers(8, 17)),
                    int(rng.integers(1, 5))), dtype)
    x, seen = net.x, [net.x]
    while len(net.ops) < int(rng.integers(4, 8)):
        kind = rng.choice(["conv", "dw", "pool", "add"], p=[0.4, 0.3, 0.1, 0.2])
        same = [t for t in seen[:-1] if t.shape == x.shape]
        if kind == "add" and same:
            y = net.add(x, same[int(rng.integers(len(same)))])
        elif kind == "add":
            continue
        else:
            y = net.pool(x) if kind == "pool" else net.conv(x, kind == "dw")
        if y is not None:
            x = y
            seen.append(y)
    return net.graph(x)


def random_stages(graph: Graph, rng, count: int):
    """(start, end, grid, partitioned graph) of valid stages, each at most once."""
    seen, out = set(), []
    for _ in range(200):
        a = int(rng.integers(0, len(graph.ops)))
        b = int(rng.integers(a, len(graph.ops)))
        y = graph.tensors[graph.ops[b].outputs[0]]
        g = (int(rng.integers(1, min(y.shape[1], 8) + 1)), int(rng.integers(1, min(y.shape[2],
                                                                                      8) + 1)))
        if (a, b, g) in seen:
            continue
        seen.add((a, b, g))
        new = apply(graph, a, b, g)
        if new is not None:
            out.append((a, b, g, new.validate()))
        if len(out) == count:
            break
    return out


def check_reference(graph: Graph, new: Graph, rng, label: str, cases: int = 2) -> None:
    for k in range(cases):
        t = graph.tensors[graph.inputs[0]]
        x = (rng.integers(-128, 128, t.shape).astype(np.int8) if t.dtype == "int8"
             else rng.standard_normal(t.shape).astype(np.float32))
        want, got = run_graph(graph, [x])[0], run_graph(new, [x])[0]
        if want.dtype.kind == "f":
            assert_close(want, got, 1e-4 * max(1.0, float(np.abs(want).max())), f"{label} {k}")
        else:
            assert_exact(want, got, f"{label} case {k}")


@pytest.mark.parametrize("seed", range(24))
def test_patched_reference_equals_unsplit_on_random_cnns(seed):
    graph = random_cnn(seed)
    rng = np.random.default_rng(1000 + seed)
    stages = random_stages(graph, rng, 6)
    assert stages, "no valid stage in this CNN"
    for a, b, g, new in stages:
        assert [op.kind for op in unpartition(new).ops] == [op.kind for op in graph.ops]
        check_reference(graph, new, rng, f"seed {seed} ops {a}..{b} grid {g}")


@pytest.mark.parametrize("seed", range(6))
def test_patched_reference_float_cnns(seed):
    graph = random_cnn(100 + seed, "float32")
    rng = np.random.default_rng(seed)
    for a, b, g, new in random_stages(graph, rng, 3):
        check_reference(graph, new, rng, f"float seed {seed} ops {a}..{b} grid {g}", 1)


def test_a_wrong_border_padding_is_caught(monkeypatch):
    # the comparison must see a geometry that pads border patches wrongly: with the column
    # padding of every windowed read dropped, some stage of these CNNs has to differ
    cases = [(graph, s) for seed in range(4) for graph in [random_cnn(seed)]
             for s in random_stages(graph, np.random.default_rng(seed), 6) if s[2][1] > 1]
    real = pg.read_of

    def shifted(op, tensors, name, source, out):
        r = real(op, tensors, name, source, out)
        return pg.Read(r.tensor, r.source, r.box, r.origin, r.view, (r.pad[0], 0))
    monkeypatch.setattr(pg, "read_of", shifted)
    failures = 0
    for graph, (a, b, g, new) in cases:
        try:
            check_reference(graph, new, np.random.default_rng(0), "mutant")
        except AssertionError:
            failures += 1
    assert failures > len(cases) // 3, f"{failures} of {len(cases)} mutants caught"


def test_geometry_by_hand():
    # CONV 3x3 stride 2 SAME on 7x7 -> 4x4 (TFLite: total pad 2, 1 before); 2x2 grid of the
    # output: rows [0, 2) and [2, 4); the top patch reads input rows [0, 4) with 1 row of
    # padding above, the bottom one rows [3, 7) with none above and 1 below (past the view)
    x = Tensor("x", (1, 7, 7, 1), "float32")
    w = Tensor("w", (1, 3, 3, 1), "float32", data=np.ones((1, 3, 3, 1), np.float32))
    y = Tensor("y", (1, 4, 4, 1), "float32")
    op = Op("CONV_2D", ["x", "w", ""], ["y"], dict(padding="SAME", stride=(2, 2)))
    tensors = {"x": x, "w": w, "y": y}
    assert pg.window(op, tensors).pad == (1, 1)
    assert pg.split(7, 3) == [(0, 3), (3, 5), (5, 7)]
    top, bottom = [pg.patch_steps([op], tensors, ("x",), "y", box)[0]
                   for box in pg.grid_boxes(y, (2, 1))]
    assert top.reads[0].box == pg.Box(0, 4, 0, 7) and top.reads[0].pad == (1, 1)
    assert top.reads[0].view == (7, 7)
    assert bottom.reads[0].box == pg.Box(3, 7, 0, 7) and bottom.reads[0].pad == (0, 1)
    assert bottom.reads[0].view == (4, 7)          # taps below row 7 are padding
    # a 2x2 grid: the right column's window needs right padding, so its view starts at the
    # image's first column with a negative column pad (the kernel's width is its pitch)
    right = pg.patch_steps([op], tensors, ("x",), "y", pg.Box(0, 2, 2, 4))[0].reads[0]
    assert right.box == pg.Box(0, 4, 3, 7) and right.origin == (0, 0)
    assert right.pad == (1, -3) and right.view == (7, 7)


def test_estimate_equals_exact_patch_macs():
    from toolchain.ops import registry
    from toolchain.ops.registry import Node
    for seed in range(8):
        graph = random_cnn(seed)
        for a, b, g, new in random_stages(graph, np.random.default_rng(seed), 4):
            stage = new.ops[a]
            assert estimate(new, stage)[0] == registry.get(KIND).macs(Node.of(new, stage))


def test_stage_checks_reject_what_cannot_run_in_patches():
    graph = random_cnn(5)
    new = apply(graph, 0, len(graph.ops) - 1, (2, 2))
    stage = new.ops[0]
    bad = [stage.replace(attrs=dict(stage.attrs, grid=(99, 1))),
           stage.replace(attrs=dict(stage.attrs, ops=stage.attr("ops")[:-1]))]
    for op in bad:
        with pytest.raises(GraphError):
            new.replace(ops=(op,) + new.ops[1:]).validate()
    assert parse_mode("4x2") == (4, 2) and parse_mode("AUTO") == "auto"
    for spec in ("1x1", "4x", "x4", "0x3", "many"):
        with pytest.raises(ValueError):
            parse_mode(spec)


# ------------------------------------------------------------------ generated C

@pytest.mark.parametrize("seed", [0, 1, 4, 7])
def test_random_cnn_stages_bit_exact_in_host_c(seed):
    graph = random_cnn(seed)
    rng = np.random.default_rng(50 + seed)
    stages = random_stages(graph, rng, 3)
    a, b, g, new = stages[0]
    more = [s for s in stages[1:] if s[0] > b]          # a second, disjoint stage if any
    if more:
        new = apply_stages(graph, [(a, b, g), more[0][:3]])
    x = rng.integers(-128, 128, graph.tensors[graph.inputs[0]].shape).astype(np.int8)
    want = run_graph(graph, [x])[0]
    assert_exact(want, get_executor("host")(new, [x]).outputs[0], f"seed {seed}")


# ------------------------------------------------------------------ planner: anchored buffers

def test_anchored_buffer_takes_its_leaders_offset():
    # A (100 B, steps 0-1) is consumed at step 1 by an op writing B (80 B, steps 2-3) over it;
    # E (120 B) lives at step 3 with B. By size first fit, E goes to 0 first and A must move
    # above it (B's conflict counts for A); the best plan puts A and B at 0 and E after B
    p = ArenaPlanner(16)
    e = p.add_buffer(120, 3, 3, "E")
    a = p.add_buffer(100, 0, 1, "A")
    b = p.add_buffer(80, 2, 3, "B", anchor=a)
    first_fit = p._place([e, a, b], False)
    assert first_fit[e] == 0 and first_fit[a] == first_fit[b] == 128
    assert (p.offset(a), p.offset(b), p.offset(e)) == (0, 0, 80) and p.arena_size == 208
    bufs = [Buffer(120, 3, 3), Buffer(100, 0, 1), Buffer(80, 2, 3)]
    check_no_overlap(bufs, [p.offset(i) for i in range(3)], 16)
    with pytest.raises(ValueError):
        p.add_buffer(200, 4, 4, "too big", anchor=a)
    with pytest.raises(ValueError):
        p.add_buffer(10, 1, 2, "overlapping", anchor=a)


@pytest.mark.parametrize("seed", range(20))
def test_anchored_plans_keep_the_invariant(seed):
    rng = np.random.default_rng(seed)
    p, bufs = ArenaPlanner(16), []
    for i in range(int(rng.integers(3, 14))):
        first = int(rng.integers(0, 10))
        size, last = int(rng.integers(0, 300)), first + int(rng.integers(0, 4))
        leaders = [j for j, b in enumerate(bufs) if j not in p.anchors and b.last < first
                   and b.size >= size and all(bufs[f].last < first or bufs[f].first > last
                                              for f, lead in p.anchors.items() if lead == j)]
        anchor = int(rng.choice(leaders)) if leaders and rng.random() < 0.5 else None
        p.add_buffer(size, first, last, f"b{i}", anchor=anchor)
        bufs.append(Buffer(size, first, last, f"b{i}"))
    offsets = [p.offset(i) for i in range(len(bufs))]
    check_no_overlap(bufs, offsets, 16)
    assert all(offsets[f] == offsets[lead] for f, lead in p.anchors.items())
    assert p.arena_size >= max(o + b.size for o, b in zip(offsets, bufs))


def test_stage_output_laid_over_its_input():
    g = load_tflite(shared_model(KWS))
    new = apply(g, 1, 2, (5, 1))                     # 25x5x64 -> 25x5x64: in place
    stage = new.ops[1]
    assert stage.attr("in_place")
    from toolchain.backends.c import lower
    low = lower(new)
    x, y = stage.inputs[0], stage.outputs[0]
    assert low.plan.offsets[x] == low.plan.offsets[y]
    assert low.plan.buffers and arena_peak(new) == low.plan.arena_size
    off = apply(g, 1, 2, (5, 1)).replace(ops=tuple(
        op.replace(attrs=dict(op.attrs, in_place=False)) if op.kind == KIND else op
        for op in new.ops))
    assert arena_peak(new) < arena_peak(off)
    check_reference(g, new, np.random.default_rng(0), "kws in place")


# ------------------------------------------------------------------ real models

_FOUND: dict = {}
BUDGETS = {"vww": 30_000, "ic": 32_767, "kws": 15_999}   # kws, ic: below the issue-4 bounds


def found(key: str):
    if key not in _FOUND:
        model = next(m for m in INT8_MODELS if m.key == key)
        graph = load_tflite(shared_model(model.rel))
        _FOUND[key] = (model, graph, search(graph, BUDGETS[key]))
    return _FOUND[key]


@pytest.mark.parametrize("key", ["vww", "ic", "kws"])
def test_real_models_partitioned_peak_and_reference(key):
    model, graph, part = found(key)
    assert part is not None, f"{key}: no partition within {BUDGETS[key]:,} B"
    assert part.peak_after <= BUDGETS[key] < part.peak_before == arena_peak(graph)
    assert part.peak_after == arena_peak(part.graph)
    assert part.macs_after == total_macs(part.graph) and part.overhead <= 0.15
    cases = sample_inputs(model, graph) + [model_inputs(graph, 7 + s) for s in range(3)]
    for i, inputs in enumerate(cases):
        for e, g in zip(run_graph(graph, inputs), run_graph(part.graph, inputs)):
            assert_exact(e, g, f"{key} case {i}")


def test_vww_peak_with_the_input_in_the_arena():
    # The input image alone (96x96x3) is 27,648 B: while it sits in the arena, any plan needs
    # it plus the first op's output or patch buffers, so the arena-resident peak stays above
    # that; fitml reaches within 10% of it at a fraction of a percent more MACs. With the input
    # in the caller's buffer the arena meets 27,648 B (tests/test_caller_inputs.py).
    _, graph, part = found("vww")
    x = graph.tensors[graph.inputs[0]]
    assert x.nbytes == 27_648 and part.peak_after > x.nbytes
    assert part.peak_after <= 30_000 and part.overhead <= 0.01
    assert part.peak_before == 55_440 or part.peak_before >= 55_296


@needs_arm
@pytest.mark.parametrize("key", ["vww", "ic", "kws"])
def test_real_models_partitioned_bit_exact_on_host_and_qemu(key):
    model, graph, part = found(key)
    cases = sample_inputs(model, graph)[:1] + [model_inputs(graph, 21)]
    for executor, opts in (("host", {}), ("qemu", {"target": "cortex-m4"})):
        run = get_executor(executor)
        for i, inputs in enumerate(cases):
            want = run_graph(graph, inputs)[0]
            assert_exact(want, run(part.graph, inputs, **opts).outputs[0],
                         f"{key} {executor} case {i}")


# ------------------------------------------------------------------ CLI



@pytest.fixture
def board(tmp_path):
    return write_board(tmp_path / "m4-48k.toml", "m4-48k", {"sram": (0x20000000, "48K")})


@needs_arm
def test_check_vww_fits_48k_thanks_to_partitioning(board):
    model = shared_model(VWW)
    proc = fitml("check", model, "--target", board, "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    d = json.loads(proc.stdout)
    p = d["partition"]
    sram = next(r for r in d["regions"] if r["name"] == "sram")
    assert d["fits"] and p["applied"] and p["mode"] == "auto"
    assert p["peak_before_bytes"] > 48 * 1024 >= sram["used"]
    assert p["peak_after_bytes"] == d["activations_peak_bytes"] and p["mac_overhead"] <= 0.15
    assert d["stack_bytes"] > 0                         # measured, not guessed
    assert "thanks to patch-based partitioning" in d["verdict"]
    assert f"{sram['headroom']:,} B of sram to spare" in d["verdict"]
    text = fitml("check", model, "--target", board)
    assert text.returncode == 0 and "partitioned (auto): ops" in text.stdout
    off = fitml("check", model, "--target", board, "--partition", "off", "--no-measure")
    assert off.returncode == 1 and "region 'sram' overflows" in one_clear_line(off)


def test_check_partition_flag(board):
    model = shared_model(VWW)
    # 4x4's 33,584 B arena needs 48K + 1K: the build links the declared 16 KB stack beside it
    code = fitml("check", model, "--target", board, "--partition", "4x4", "--no-measure",
                 "--ram", "50K", "--format", "json")
    d = json.loads(code.stdout)
    assert code.returncode == 0 and d["partition"]["mode"] == "4x4"
    assert all(s["grid"] == [4, 4] for s in d["partition"]["stages"])
    bad = fitml("check", model, "--target", board, "--partition", "4by4", "--no-measure")
    assert bad.returncode == 2 and "--partition '4by4'" in one_clear_line(bad)
    tight = fitml("check", model, "--target", board, "--ram", "20K", "--no-measure")
    assert tight.returncode == 1 and "no patch-based partition fits" in tight.stdout


def test_compile_partitions_when_the_board_is_small(board, tmp_path):
    out = tmp_path / "vww_c"
    proc = fitml("compile", shared_model(VWW), "--target", board, "-o", out)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["partition"]["peak_after_bytes"] == report["arena_bytes"] <= 48 * 1024
    assert "partitioned (auto)" in proc.stdout
    assert "a patch-based stage" in (out / "model.c").read_text()
    kinds = [op.kind for op in load_tflite(out / "model.tflite").ops]   # the unsplit ops
    assert KIND not in kinds and kinds == [op.kind for op in load_tflite(
        shared_model(VWW)).ops]


@needs_arm
def test_verify_with_a_forced_grid(tmp_path):
    proc = fitml("verify", shared_model(KWS), "--partition", "5x1", "--random", "1", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    d = json.loads(proc.stdout)
    assert d["bit_exact"] and d["partition"]["unpartitioned_bit_exact"]
    assert all(r["bit_exact"] for r in d["executors"].values()) and "tflm" in d["executors"]
