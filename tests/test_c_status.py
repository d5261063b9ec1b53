"""A failing kernel names its op: `<prefix>_invoke` returns (op << 8) | fitml_status, model.h
unpacks it, and fitml's executors turn it into "op N (KIND) failed with ..."."""
from __future__ import annotations

import subprocess

import oplab
from cli_util import fitml
from toolchain.backends.cstatus import describe_status
from toolchain.backends.tflite import write_tflite
from toolchain.ir import Graph, Op

APP = """#include <stdio.h>
#include "two.h"
static uint8_t arena[TWO_ARENA_SIZE] __attribute__((aligned(TWO_ARENA_ALIGNMENT)));
int main(void)
{
    static TWO_INPUT0_TYPE a[TWO_INPUT0_SIZE];
    const void *inputs[TWO_NUM_INPUTS] = { a, 0 };      /* input 1 missing */
    int ret = two_invoke(arena, inputs);
    printf("%d %d %d\\n", ret, TWO_STATUS_OP(ret), TWO_STATUS_KERNEL(ret));
#if TWO_INPUT1_DTYPE != FITML_DTYPE_INT8
#error "dtype macro"
#endif
    return 0;
}
"""


def two_input_model(path):
    """op 0: ADD(a, a); op 1: ADD(op 0, b): input b is read by op 1 only."""
    a, b = oplab.act("a", (1, 8), scale=0.05, zp=3), oplab.act("b", (1, 8), scale=0.05, zp=-7)
    s0, s1 = oplab.act("s0", (1, 8), scale=0.1, zp=1), oplab.act("s1", (1, 8), scale=0.2, zp=0)
    graph = Graph.build([a, b, s0, s1], [Op("ADD", ["a", "a"], ["s0"], {"activation": "NONE"}),
                                         Op("ADD", ["s0", "b"], ["s1"], {"activation": "NONE"})],
                        ["a", "b"], ["s1"]).validate()
    path.write_bytes(write_tflite(graph))
    return path


def test_invoke_returns_the_failing_op_and_status(tmp_path):
    model = two_input_model(tmp_path / "two.tflite")
    out = tmp_path / "proj"
    proc = fitml("compile", model, "-o", out, "--prefix", "two", "--input-buffer", "caller")
    assert proc.returncode == 0, proc.stderr
    (tmp_path / "app.c").write_text(APP)
    (tmp_path / "Makefile").write_text(
        "include proj/two.mk\napp: app.c $(TWO_SRCS)\n"
        "\tgcc -std=c99 -Wall -Wextra -Werror -pedantic $(TWO_CFLAGS) $^ -o $@ -lm\n")
    build = subprocess.run(["make", "-s", "app"], cwd=tmp_path, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(tmp_path / "app")], capture_output=True, text=True)
    ret, op, status = map(int, run.stdout.split())
    assert (op, status) == (1, 1) and ret == (1 << 8) | 1      # op 1, FITML_ERR_ARGUMENT
    text = describe_status(ret, (out / "two.c").read_text())
    assert text == "op 1 (ADD) failed with kernel status 1 (FITML_ERR_ARGUMENT)"


def test_describe_status_without_the_source():
    assert describe_status((7 << 8) | 3) == \
        "op 7 failed with kernel status 3 (FITML_ERR_SCRATCH)"
