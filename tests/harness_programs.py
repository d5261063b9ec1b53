"""Tiny C "models" (a function `fitml_model_run(inputs, outputs)`) for the harness and QEMU tests
(tests/test_qemu_harness_*.py): a 65,536-MAC dot product, a loop of known length, a HardFault, a
deep recursion and data in extra regions; `build` links one with the generated harness for a
core or board."""
from __future__ import annotations

import numpy as np

from toolchain.verify.elf import build_elf
from toolchain.verify.harness import render_main


CORES = ["cortex-m0", "cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33",
         "cortex-m55"]
N_MACS = 65536

DOT_C = """
#include <stdint.h>

/* 65,536 int8 MACs; the int32 sum goes out little-endian. */
int fitml_model_run(const void *const inputs[], void *const outputs[])
{
    const int8_t *a = inputs[0];
    const int8_t *b = inputs[1];
    int32_t acc = 0;
    for (uint32_t i = 0u; i < 65536u; i++) {
        acc += (int32_t)a[i] * b[i];
    }
    *(int32_t *)outputs[0] = acc;
    return 0;
}
"""

LOOP_C = """
#include <stdint.h>

/* Exactly 2 instructions per iteration; returns the input's second word as its status. */
int fitml_model_run(const void *const inputs[], void *const outputs[])
{
    const uint32_t *in = inputs[0];
    uint32_t n = in[0];
    __asm__ volatile(".syntax unified\\n1: subs %0, %0, #1\\n bne 1b" : "+l"(n) : : "cc");
    *(uint32_t *)outputs[0] = n + 0x600DF00Du;
    return (int)in[1];
}
"""

FAULT_C = """
__attribute__((noinline)) void fitml_test_crash(void)
{
    __asm__ volatile("udf #7");
}

int fitml_model_run(const void *const inputs[], void *const outputs[])
{
    (void)inputs;
    (void)outputs;
    fitml_test_crash();
    return 0;
}
"""

RECURSE_C = """
#include <stdint.h>

uint8_t fitml_test_pad[16384]; /* .bss below the stack: catches an overflow on M3/M4/M7 */

__attribute__((noinline)) static uint32_t deep(volatile uint8_t *prev, uint32_t n)
{
    volatile uint8_t buf[64];
    buf[0] = (uint8_t)n;
    buf[63] = prev ? prev[0] : 0u;
    return n == 0u ? buf[63] : deep(buf, n - 1u) + buf[0];
}

int fitml_model_run(const void *const inputs[], void *const outputs[])
{
    *(uint32_t *)outputs[0] = deep(0, *(const uint32_t *)inputs[0]) + fitml_test_pad[0];
    return 0;
}
"""

REGIONS_C = """
#include <stdint.h>

__attribute__((section(".fitml.isram"))) uint32_t fitml_test_big[1000000];
__attribute__((section(".fitml.qspi"))) const uint32_t fitml_test_table[4] = {11u, 22u, 33u, 44u};

int fitml_model_run(const void *const inputs[], void *const outputs[])
{
    (void)inputs;
    uint32_t *o = outputs[0];
    o[0] = fitml_test_big[0] + fitml_test_big[999999]; /* zeroed by the reset handler */
    fitml_test_big[999999] = 7u;
    o[1] = fitml_test_big[999999] + fitml_test_table[3];
    o[2] = (uint32_t)(uintptr_t)&fitml_test_big[0];
    o[3] = (uint32_t)(uintptr_t)fitml_test_table;
    return 0;
}
"""


def build(tmp_path, target, source, in_sizes, out_sizes, **kw):
    """ELF of `source` + the generated harness, built in its own directory under tmp_path."""
    name = target if isinstance(target, str) else target.name
    d = tmp_path / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.c").write_text(source)
    main = render_main(d, in_sizes, out_sizes)
    return build_elf([d / "model.c", main], [], target, d, **kw)


def i8(rng, n):
    return rng.integers(-128, 128, size=n, dtype=np.int8)
