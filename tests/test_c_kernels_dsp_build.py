"""DSP and MVE builds: the scratch sizes the lowering reserves equal the C kernels' own, the MVE
sources build warning-free, the DSP sources use SXTB16/SMLAD at -O2, and portable builds
carry no DSP arrays."""
from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from dsp_cases import conv_cases, depthwise_cases, fully_connected, lowered, path_of
from toolchain.backends import cruntime
from toolchain.ops import registry
from toolchain.ops.registry import Node


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
