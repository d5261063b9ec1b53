"""Three shared models in one bare-metal Cortex-M4 firmware, built as a firmware team would:
`fitml compile KWS AD HELLO -o DIR --prefix kws,ad,hw` (one runtime for the three), then a
hand-written project linking them through the CMake snippets, the Make snippets, every .c of the
folder (as an IDE adds it) and a Clang build; each image runs under QEMU and every model's
output is bit-exact to the reference."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from cli_util import fitml
from conftest import REPO, shared_model
from oplab import assert_exact
from toolchain import api
from toolchain.backends.cruntime import C99_WARNINGS
from toolchain.ops.interpreter import NP_DTYPES, run_graph
from toolchain.targets import load_target
from toolchain.verify import qemu
from toolchain.verify.harness import render_linker_script, render_main, render_startup

MODELS = {"kws": "mlperf_tiny/kws/kws_ref_model_int8.tflite",
          "ad": "mlperf_tiny/ad/ad01_int8.tflite",
          "hw": "tflm/hello_world_int8.tflite"}
TARGET = "cortex-m4"
LINK = "--specs=nano.specs --specs=rdimon.specs -nostartfiles -Wl,--gc-sections -lm"
# newlib and libgcc come from arm-none-eabi-gcc, whose EABI enums are variable-size
CLANG = ("clang --target=arm-none-eabi --sysroot=/usr/lib/arm-none-eabi -fshort-enums "
         "-Wno-unused-command-line-argument")
APP = """#include <string.h>
#include "app.h"
#include "kws.h"
#include "ad.h"
#include "hw.h"

static uint8_t kws_arena[KWS_ARENA_SIZE] __attribute__((aligned(16)));
static uint8_t ad_arena[AD_ARENA_SIZE] __attribute__((aligned(16)));
static uint8_t hw_arena[HW_ARENA_SIZE] __attribute__((aligned(16)));

static void fw_barrier(void) { asm volatile("" ::: "memory"); }  /* GNU C: -std=c99 would refuse */

int fw_run(const void *const in[], void *const out[])
{
    int status;
    memcpy(kws_input(kws_arena, 0), in[0], KWS_INPUT0_BYTES);
    memcpy(ad_input(ad_arena, 0), in[1], AD_INPUT0_BYTES);
    memcpy(hw_input(hw_arena, 0), in[2], HW_INPUT0_BYTES);
    fw_barrier();
    if ((status = kws_invoke(kws_arena)) != 0 || (status = ad_invoke(ad_arena)) != 0
        || (status = hw_invoke(hw_arena)) != 0) {
        return status;
    }
    memcpy(out[0], kws_output(kws_arena, 0), KWS_OUTPUT0_BYTES);
    memcpy(out[1], ad_output(ad_arena, 0), AD_OUTPUT0_BYTES);
    memcpy(out[2], hw_output(hw_arena, 0), HW_OUTPUT0_BYTES);
    return 0;
}
"""
CMAKE = """cmake_minimum_required(VERSION 3.16)
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
project(fw C)
set(CMAKE_C_FLAGS "{cflags} -O2 -Wall -Wextra -Werror")
include(models/kws.cmake)
include(models/ad.cmake)
include(models/hw.cmake)
add_executable(fw.elf main.c app.c startup.c)
target_link_libraries(fw.elf PRIVATE kws ad hw)
target_link_options(fw.elf PRIVATE -T${{CMAKE_SOURCE_DIR}}/link.ld {link})
"""
MAKE = """CC = {cc}
LD = arm-none-eabi-gcc {cflags}
CFLAGS = {cflags} -O2 -std=gnu11 -Wall -Wextra -Werror
include models/kws.mk
include models/ad.mk
include models/hw.mk
SRCS = main.c app.c startup.c {srcs}
CFLAGS += $(KWS_CFLAGS) $(AD_CFLAGS) $(HW_CFLAGS)
OBJS = $(addprefix obj/,$(notdir $(SRCS:.c=.o)))
vpath %.c $(sort $(dir $(SRCS)))
fw.elf: $(OBJS)
\t$(LD) $^ -T link.ld {link} -o $@ $(FITML_RUNTIME_LDLIBS)
obj/%.o: %.c | obj
\t$(CC) $(CFLAGS) -c $< -o $@
obj:
\tmkdir -p obj
obj/main.o obj/startup.o: CC = arm-none-eabi-gcc   # the QEMU harness is GCC's (noipa)
"""
OWN_SRCS = "$(KWS_OWN_SRCS) $(AD_OWN_SRCS) $(HW_OWN_SRCS) $(FITML_RUNTIME_SRCS)"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The three models compiled into one folder; their graphs and one input each."""
    root = tmp_path_factory.mktemp("firmware")
    paths = [shared_model(rel) for rel in MODELS.values()]
    proc = fitml("compile", *paths, "--target", TARGET, "-o", root / "models",
                 "--prefix", ",".join(MODELS))
    assert proc.returncode == 0, proc.stderr
    rng = np.random.default_rng(17)
    graphs, inputs = {}, {}
    for prefix in MODELS:
        g = api.load(root / "models" / f"{prefix}.tflite")
        t = g.tensors[g.inputs[0]]
        info = np.iinfo(NP_DTYPES[t.dtype])
        graphs[prefix] = g
        inputs[prefix] = rng.integers(info.min, info.max + 1, t.shape).astype(NP_DTYPES[t.dtype])
    return root / "models", graphs, inputs


def project(tmp_path: Path, compiled) -> Path:
    """A firmware folder: the compiled models, app.c, the harness main, startup and link.ld."""
    models, graphs, inputs = compiled
    shutil.copytree(models, tmp_path / "models")
    (tmp_path / "app.h").write_text("int fw_run(const void *const in[], void *const out[]);\n")
    (tmp_path / "app.c").write_text(APP)
    sizes = lambda names: [graphs[p].tensors[n].nbytes for p in MODELS  # noqa: E731
                           for n in getattr(graphs[p], names)]
    render_main(tmp_path, sizes("inputs"), sizes("outputs"), includes=["app.h"],
                     call="fw_run(fitml_inputs, fitml_outputs)")
    tgt = load_target(TARGET)
    render_startup(tmp_path, tgt)
    render_linker_script(tmp_path, tgt)
    return tmp_path


def run_and_compare(elf: Path, compiled) -> None:
    _, graphs, inputs = compiled
    blobs = [inputs[p].tobytes() for p in MODELS]
    result = qemu.run_elf(elf, TARGET, blobs, len(MODELS)).check()
    for prefix, blob in zip(MODELS, result.outputs):
        g = graphs[prefix]
        want = run_graph(g, [inputs[prefix]])[0]
        got = np.frombuffer(blob, want.dtype).reshape(want.shape)
        assert_exact(want, got, f"{prefix} in the firmware")


def cflags() -> str:
    return " ".join(load_target(TARGET).cflags)


def make(folder: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "fw.elf"], cwd=folder, capture_output=True, text=True,
                          **kw)


def test_one_runtime_for_three_models(compiled):
    models, _, _ = compiled
    kernels = sorted(p.name for p in (models / "runtime_c" / "src").glob("*.c"))
    assert len(kernels) == len(set(kernels)) > 3
    every_c = [p for p in models.rglob("*.c")]
    assert len(every_c) == len(kernels) + 2 * len(MODELS)      # <p>.c, <p>_weights.c
    assert not [p for p in (models / "runtime_c").iterdir() if p.name not in ("src", "include")]
    for prefix in MODELS:
        for ext in (".h", ".c", "_weights.c", "_weights.h", ".cmake", ".mk", ".tflite"):
            assert (models / f"{prefix}{ext}").is_file(), prefix + ext


def test_cmake_firmware_runs_each_model_bit_exact(compiled, tmp_path):
    if shutil.which("cmake") is None:
        pytest.fail("cmake missing: run ./setup.sh")
    fw = project(tmp_path, compiled)
    (fw / "CMakeLists.txt").write_text(CMAKE.format(cflags=cflags(), link=LINK))
    for cmd in (["cmake", "-S", ".", "-B", "build"], ["cmake", "--build", "build"]):
        proc = subprocess.run(cmd, cwd=fw, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    run_and_compare(fw / "build" / "fw.elf", compiled)


@pytest.mark.parametrize("cc", ["gcc", "clang"])
def test_make_firmware_runs_each_model_bit_exact(compiled, tmp_path, cc):
    if cc == "clang" and shutil.which("clang") is None:
        pytest.fail("clang missing: run ./setup.sh")
    fw = project(tmp_path, compiled)
    compiler = "arm-none-eabi-gcc" if cc == "gcc" else CLANG
    (fw / "Makefile").write_text(MAKE.format(cc=compiler, cflags=cflags(), link=LINK,
                                             srcs=OWN_SRCS))
    proc = make(fw)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ours = [ln for ln in proc.stderr.splitlines() if "warning" in ln and ".note.GNU-stack" not in
            ln]        # newlib's own objects carry no stack note; clang's do
    assert not ours, proc.stderr
    run_and_compare(fw / "fw.elf", compiled)


def test_the_folder_builds_as_an_ide_adds_it(compiled, tmp_path):
    """Every .c under the output folder, compiled as one project: one definition each."""
    fw = project(tmp_path, compiled)
    every_c = " ".join(str(p.relative_to(fw)) for p in sorted((fw / "models").rglob("*.c")))
    flags = "-Imodels -Imodels/runtime_c/include"
    (fw / "Makefile").write_text(MAKE.replace("include models/", "# include models/").format(
        cc="arm-none-eabi-gcc", cflags=f"{cflags()} {flags}", link=LINK, srcs=every_c))
    proc = make(fw)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_and_compare(fw / "fw.elf", compiled)


def test_runtime_dir_override_builds_from_the_repository_runtime(compiled, tmp_path):
    """FITML_RUNTIME_DIR set to the repository's runtime_c (src/portable, src/dsp layout)."""
    fw = project(tmp_path, compiled)
    shutil.rmtree(fw / "models" / "runtime_c")      # nothing may come from the copy
    (fw / "Makefile").write_text(f"FITML_RUNTIME_DIR = {REPO / 'runtime_c'}\n" + MAKE.format(
        cc="arm-none-eabi-gcc", cflags=cflags(), link=LINK, srcs=OWN_SRCS))
    proc = make(fw)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_and_compare(fw / "fw.elf", compiled)
    (fw / "CMakeLists.txt").write_text(CMAKE.format(cflags=cflags(), link=LINK).replace(
        "include(models/kws.cmake)",
        f"set(FITML_RUNTIME_DIR {REPO / 'runtime_c'})\ninclude(models/kws.cmake)"))
    for cmd in (["cmake", "-S", ".", "-B", "build"], ["cmake", "--build", "build"]):
        proc = subprocess.run(cmd, cwd=fw, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    run_and_compare(fw / "build" / "fw.elf", compiled)


def test_generated_c_is_warning_free_with_strict_clang_and_gcc(compiled, tmp_path):
    models, _, _ = compiled
    sources = [str(p) for p in sorted(models.rglob("*.c"))]
    inc = [f"-I{models}", f"-I{models / 'runtime_c' / 'include'}"]
    for cc in (["arm-none-eabi-gcc"], CLANG.split()):
        for src in sources:
            cmd = [*cc, *load_target(TARGET).cflags, "-O2", *C99_WARNINGS, *inc, "-c", src,
                   "-o", str(tmp_path / "x.o")]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            assert proc.returncode == 0 and not proc.stderr, f"{cc[0]} {src}:\n{proc.stderr}"


def test_two_separate_outputs_in_one_build_are_a_clear_error(compiled, tmp_path):
    """Two folders compiled apart each bring a runtime: the snippets say so instead of linking
    one model against the other's kernels."""
    models, _, _ = compiled
    fw = project(tmp_path, compiled)
    shutil.copytree(models, fw / "other")
    (fw / "Makefile").write_text("include models/kws.mk\ninclude other/ad.mk\nall:\n")
    proc = subprocess.run(["make", "-s"], cwd=fw, capture_output=True, text=True)
    assert proc.returncode != 0 and "compile the models together" in proc.stderr
    (fw / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.16)\nproject(fw C)\n"
        "include(models/kws.cmake)\ninclude(other/ad.cmake)\n")
    proc = subprocess.run(["cmake", "-S", ".", "-B", "build"], cwd=fw, capture_output=True,
                          text=True)
    assert proc.returncode != 0 and "compile the models together" in proc.stderr
