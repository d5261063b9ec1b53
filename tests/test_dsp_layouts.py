"""DSP weight layouts within the flash budget (backends/clayouts.py): a fast build never fails to
fit because of its pre-widened int16 weight copies. The FC kernel reads only its layout, so the
int8 copy is not emitted beside it; when a board's flash cannot hold the constants, the layouts
saving the fewest instructions per byte are given up (those layers run their int8 path, still
bit-exact) and the report says which."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from cli_util import fitml
from conftest import shared_model
from oplab import assert_exact
from toolchain.backends.c import emit_c, lower
from toolchain.backends.clayouts import constant_arrays, flash_fits, layout_bytes
from toolchain.lowering.ccall import CArray
from toolchain.report.fit import fit
from toolchain.frontends.tflite import load_tflite
from toolchain.plan.regions import layout_for
from toolchain.targets import load_target
from toolchain.verify.executors import get_executor
from toolchain.ops.interpreter import run_graph

needs_arm = pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="Cortex-M toolchain or qemu-system-arm missing: run ./setup.sh")
AD = "mlperf_tiny/ad/ad01_int8.tflite"       # 270 KB of int8 FC weights
BOARD = "nucleo-f411re"                      # 512 KB of flash


@pytest.fixture(scope="module")
def ad():
    return load_tflite(shared_model(AD))


def fc_calls(low):
    return [(op, c) for op, c in zip(low.graph.ops, low.calls)
            if op.kind == "FULLY_CONNECTED"]


def test_fc_with_a_layout_carries_no_int8_copy(ad):
    fast = lower(ad, variant="dsp")
    portable = lower(ad)
    for (op, c), (_, p) in zip(fc_calls(fast), fc_calls(portable)):
        assert isinstance(c.params["filter_dsp"], CArray), op.outputs[0]
        assert c.params["filter"] == "NULL", op.outputs[0]
        assert p.params["filter_dsp"] == "NULL" and p.params["filter"] != "NULL"
    files = emit_c(ad, variant="dsp")
    weights = sum(t.nbytes for t in ad.tensors.values() if t.is_const and t.dtype == "int8")
    dsp = sum(layout_bytes(c) for _, c in fc_calls(fast))
    size = sum(s for _, s, _ in constant_arrays(fast.graph, fast.calls))
    assert dsp < size < dsp + weights // 10      # layouts, records, biases: no int8 copies
    assert "model_weights.c" in files


def test_layouts_kept_where_they_fit_and_spill(ad):
    for target in ("cortex-m4", "cortex-m55"):     # 4 MB flash; 512 KB ITCM + 8 MB QSPI
        tgt = load_target(target)
        low = lower(ad, layout=layout_for(tgt), variant=tgt.kernel_variant)
        assert low.plain_layouts == (), target
        assert all(layout_bytes(c) for _, c in fc_calls(low))


def test_layouts_given_up_by_value_until_the_board_fits(ad):
    tgt = load_target(BOARD)
    layout = layout_for(tgt)
    full = lower(ad, variant="dsp")
    assert not flash_fits(layout, full.graph, full.calls)
    low = lower(ad, layout=layout, variant=tgt.kernel_variant, core=tgt.core)
    assert low.plain_layouts and flash_fits(layout, low.graph, low.calls)
    kept = [c.op for c in low.layout_choices if c.kept]
    for c in low.layout_choices:        # each one left out would not fit beside those kept
        if not c.kept:
            calls = [f if i in kept or i == c.op else p
                     for i, (f, p) in enumerate(zip(full.calls, low.calls))]
            assert not flash_fits(layout, low.graph, calls), c


def test_check_says_it_fits_and_which_layers_run_plain(ad):
    proc = fitml("check", shared_model(AD), "--target", BOARD, "--no-measure",
                 "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    d = json.loads(proc.stdout)
    assert d["fits"] and d["dsp_layouts_left_out"]
    assert {o["kind"] for o in d["dsp_layouts_left_out"]} == {"FULLY_CONNECTED"}
    text = fitml("check", shared_model(AD), "--target", BOARD, "--no-measure").stdout
    assert "DSP weight layouts left out to fit flash" in text
    report = fit(ad, "cortex-m4", measure=False)
    assert report.plain_layouts == ()


@needs_arm
def test_board_build_bit_exact_with_layouts_left_out(ad):
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 128, ad.tensors[ad.inputs[0]].shape).astype(np.int8)
    want = run_graph(ad, [x])[0]
    qemu = get_executor("qemu")
    small = qemu(ad, [x], target=BOARD)
    big = qemu(ad, [x], target="cortex-m4")
    assert_exact(want, small.outputs[0], "nucleo-f411re")
    assert_exact(want, big.outputs[0], "cortex-m4")
    assert small.stats["rodata"] < 512 * 1024 < big.stats["rodata"] + 64 * 1024
    assert small.stats["instructions"] > big.stats["instructions"]   # the price, in insns


def test_dsp_lowered_project_runs_bit_exact_on_a_host_without_dsp(ad, tmp_path):
    # a firmware team unit-testing the Cortex-M4 project on its PC: the DSP sources fall back to
    # plain C over the same layouts (an FC keeps no int8 filter beside its layout)
    out = tmp_path / "proj"
    assert fitml("compile", shared_model(AD), "--target", "cortex-m4", "-o", out).returncode == 0
    assert '"NULL"' not in (out / "model.c").read_text()
    (tmp_path / "app.c").write_text(
        '#include <stdio.h>\n#include <string.h>\n#include "model.h"\n'
        "static uint8_t arena[MODEL_ARENA_SIZE] __attribute__((aligned(16)));\n"
        "int main(void) {\n  int8_t *x = model_input(arena, 0);\n"
        "  for (int i = 0; i < MODEL_INPUT0_BYTES; i++) x[i] = (int8_t)((i * 37) % 256 - 128);\n"
        "  if (model_invoke(arena) != 0) return 1;\n"
        "  fwrite(model_output(arena, 0), 1, MODEL_OUTPUT0_BYTES, stdout);\n  return 0;\n}\n")
    (tmp_path / "Makefile").write_text(
        "include proj/model.mk\n"
        "app: app.c $(MODEL_SRCS)\n"
        "\tgcc -std=c99 -O1 -Wall -Wextra -Werror -pedantic -fsanitize=address,undefined "
        "-fno-sanitize-recover=all $(MODEL_CFLAGS) $^ -o $@ -lm\n")
    import subprocess
    proc = subprocess.run(["make", "-s", "app"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    run = subprocess.run([str(tmp_path / "app")], capture_output=True)
    assert run.returncode == 0, run.stderr
    x = ((np.arange(ad.tensors[ad.inputs[0]].size) * 37) % 256 - 128).astype(np.int8)
    want = run_graph(ad, [x.reshape(ad.tensors[ad.inputs[0]].shape)])[0]
    got = np.frombuffer(run.stdout, np.int8).reshape(want.shape)
    assert_exact(want, got, "host build of the cortex-m4 project")
