"""The flat runtime_c/ fitml compile writes: for every kernel variant, each kernel's source
compiles on its own from the flat folder (every file it includes is there under its flat name),
and the only .c files are the kernels asked for."""
from __future__ import annotations

import subprocess

import pytest

from toolchain.backends import cflat, cruntime
from toolchain.targets import load_target

CORES = {"portable": "cortex-m0plus", "dsp": "cortex-m4", "mve": "cortex-m55"}


@pytest.mark.parametrize("variant", sorted(CORES))
def test_every_kernel_compiles_from_the_flat_copy(tmp_path, variant):
    kernels = sorted(cruntime.kernel_files())
    files = cflat.flat_runtime(kernels, variant)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    sources = sorted(p for p in (tmp_path / "src").iterdir() if p.suffix == ".c")
    assert [p.stem for p in sources] == kernels
    assert not list((tmp_path / "include").rglob("*.c"))
    flags = load_target(CORES[variant]).cflags
    for src in sources:
        proc = subprocess.run(["arm-none-eabi-gcc", *flags, *cruntime.C99_WARNINGS,
                               f"-I{tmp_path / 'include'}", "-fsyntax-only", str(src)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, f"{src.name}:\n{proc.stderr}"


def test_only_the_kernels_asked_for_and_what_they_include():
    files = cflat.flat_runtime(["fitml_conv_s8", "fitml_relu_s8"], "dsp")
    src = sorted(n for n in files if n.startswith("src/"))
    assert [n for n in src if n.endswith(".c")] == ["src/fitml_conv_s8.c", "src/fitml_relu_s8.c"]
    assert "src/fitml_conv_s8_portable.inc" in src        # the DSP file builds on it
    assert '#include "fitml_conv_s8_portable.inc"' in files["src/fitml_conv_s8.c"]
    assert not any("../" in text for n, text in files.items() if n.startswith("src/"))
    paths = {k.kernel: k.repo for k in cflat.kernel_paths(["fitml_conv_s8", "fitml_relu_s8"],
                                                          "dsp")}
    assert paths == {"fitml_conv_s8": "src/dsp/fitml_conv_s8.c",
                     "fitml_relu_s8": "src/portable/fitml_relu_s8.c"}
