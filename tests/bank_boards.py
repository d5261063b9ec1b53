"""User board files for the RAM-bank / second-flash tests (tests/test_banks_*.py): any regions,
and a Cortex-M55 board sized so that a model's activations and weights both overflow their
first region; the shared models those tests use."""
from __future__ import annotations

from toolchain.backends.c import c_context, constant_arrays, lower
from toolchain.plan.regions import CODE_RESERVE


KWS = "mlperf_tiny/kws/kws_ref_model_int8.tflite"       # arena 16,512 B, weights 34 KB
IC = "mlperf_tiny/ic/pretrainedResnet_quant.tflite"     # arena 50,304 B, branches + ADD
SMALL = ["tflm/hello_world_int8.tflite", "tflm/micro_speech_quantized.tflite",
         "mlperf_tiny/ad/ad01_int8.tflite", KWS]


def board(tmp_path, name: str, core: str, stack: int, regions) -> str:
    """A user board file: regions as (name, kind, base, size)."""
    text = f'name = "{name}"\ncore = "{core}"\nstack_size = {stack}\n' + "".join(
        f'\n[[regions]]\nname = "{n}"\nkind = "{k}"\nbase = {b:#x}\nsize = {s}\n'
        for n, k, b, s in regions)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return str(path)


def m55_board(tmp_path, graph) -> str:
    """Cortex-M55 (mps3-an547) with a DTCM holding two thirds of the model's arena (besides an
    8 KB stack) before 64 KB of SRAM, and an ITCM holding the code reserve, the parameters and
    half the weights before 1 MB of QSPI flash: activations and weights both overflow. Sized
    for the build the M55 links (MVE/DSP kernels with their int16 weight layouts)."""
    low = lower(graph, variant="mve")
    c_context(low, "", "")
    arrays = constant_arrays(low)
    params = sum(size for _, size, is_param in arrays if is_param)
    weights = sum(size for _, size, is_param in arrays if not is_param)
    kb = lambda n: -(-n // 1024) * 1024  # noqa: E731
    return board(tmp_path, "two-bank-m55", "cortex-m55", 8192, [
        ("itcm", "flash", 0x10000000, kb(CODE_RESERVE + params + weights // 2)),
        ("dtcm", "ram", 0x30000000, 8192 + kb(low.plan.arena_size * 2 // 3)),
        ("sram", "ram", 0x11000000, 64 << 10), ("qspi", "flash", 0x38000000, 1 << 20)])
