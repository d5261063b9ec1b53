"""Cortex-M under QEMU: build a bare-metal ELF for a target and run it with exact counts.

`build_elf` renders the harness startup code and linker script for the target (from
`templates/harness/`) and links them with the given sources using arm-none-eabi-gcc, newlib-nano
and rdimon. `render_main` writes the harness main that reads input blobs from host files over
semihosting and calls the model between two marker functions. `run_elf` runs the ELF on the
target's QEMU machine with the insn_count plugin, which counts the instructions executed between
the markers exactly (same count on every run), and collects the output blobs, the exit code and
the stack high-water mark the harness prints.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import jinja2

from ..errors import BuildError, FitmlError, ToolchainMissing
from ..resources import resource_dir
from ..targets import Target, TargetError, load_target
from ..targets.fields import check_cflags
from .cache import cache_root
from .qemu_plugin import insn_count_plugin

# Harness exit codes (QEMU exits with the semihosting exit code & 0xff).
EXIT_IO = 240      # an input/output blob file could not be read or written (or has a bad size)
EXIT_MODEL = 241   # the model entry point returned a non-zero status
EXIT_STACK = 242   # the stack overflowed into its guard band (seen after the run, no MPU)
EXIT_FAULT = 250   # a HardFault (or other unexpected exception); the report is on stdout
MARK_BEGIN, MARK_END = "fitml_mark_begin", "fitml_mark_end"
MARK_OP = "fitml_prof_op"   # profile builds: called before every op and after the last one
_LINK_FLAGS = ["--specs=nano.specs", "--specs=rdimon.specs", "-nostartfiles",
               "-Wl,--gc-sections", "-ffunction-sections", "-fdata-sections",
               "-lm"]  # float kernels (softmax, logistic, tanh) call expf/tanhf
_STATS = re.compile(r"^@fitml status=(\d+) stack_bytes=(\d+) stack_size=(\d+)", re.M)


class QemuError(FitmlError):
    """QEMU could not run the program, or (from QemuResult.check) the program failed."""


class QemuTimeout(QemuError):
    pass


@dataclass
class QemuResult:
    outputs: list[bytes]
    exit_code: int
    instructions: int | None  # between the markers; None if the end marker was never reached
    stack_bytes: int | None   # stack high-water mark, None if the harness did not report it
    stdout: str
    stderr: str = ""
    status: int | None = None  # the model entry point's return value
    stack_size: int | None = None
    marks: list[tuple[int, ...]] | None = None  # profile runs: counts at every marker call

    def fault(self) -> str | None:
        """One line naming the fault and its CFSR/HFSR flags, if the harness reported one."""
        return describe_fault(self.stdout)

    def check(self) -> "QemuResult":
        if self.exit_code != 0:
            why = self.fault() or f"program exited with {self.exit_code}"
            raise QemuError(f"{why}\n{self.stdout}{self.stderr}")
        return self


_CFSR_BITS = {0: "IACCVIOL", 1: "DACCVIOL", 3: "MUNSTKERR", 4: "MSTKERR", 5: "MLSPERR",
              8: "IBUSERR", 9: "PRECISERR", 10: "IMPRECISERR", 11: "UNSTKERR", 12: "STKERR",
              13: "LSPERR", 16: "UNDEFINSTR", 17: "INVSTATE", 18: "INVPC", 19: "NOCP",
              20: "STKOF", 24: "UNALIGNED", 25: "DIVBYZERO"}
_HFSR_BITS = {1: "VECTTBL", 30: "FORCED", 31: "DEBUGEVT"}


def describe_fault(stdout: str) -> str | None:
    """Decode the harness fault report, e.g. "HardFault at PC=0x40: UNDEFINSTR (FORCED)"."""
    if "*** fitml: HardFault" not in stdout and "*** fitml: unexpected exception" not in stdout:
        return None
    regs = {k: int(v, 16) for k, v in re.findall(r"\b([A-Z]+)=0x([0-9a-f]+)", stdout)}
    kind = "HardFault" if "fitml: HardFault" in stdout else "unexpected exception"
    where = f" at PC={regs['PC']:#x}" if "PC" in regs else ""
    flags = [n for b, n in _CFSR_BITS.items() if regs.get("CFSR", 0) >> b & 1]
    forced = [n for b, n in _HFSR_BITS.items() if regs.get("HFSR", 0) >> b & 1]
    status = ' '.join(flags) or ('no CFSR flags' if 'CFSR' in regs else 'no CFSR on ARMv6-M')
    text = f"{kind}{where}: {status}"
    text += f" ({' '.join(forced)})" if forced else ""
    overflow = "stack overflow" in stdout or "STKOF" in flags
    return text + ("; stack overflow" if overflow else "")


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolchainMissing(f"{name} not found: run ./setup.sh to install the Cortex-M "
                               "toolchain (gcc-arm-none-eabi, newlib) and qemu-system-arm")
    return path


def _render(name: str, out: Path, **params) -> Path:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(resource_dir("templates")),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(env.get_template(f"harness/{name}.j2").render(**params))
    return out


def render_main(out_dir: Path, input_sizes: Sequence[int], output_sizes: Sequence[int],
                entry: str = "fitml_model_run", includes: Sequence[str] = (),
                call: str | None = None, profile: bool = False) -> Path:
    """Write main.c. By default it calls `int entry(const void *const in[], void *const out[])`
    with harness-owned buffers; `call` replaces that with a C expression (declared in
    `includes`) using `fitml_inputs`/`fitml_outputs` or anything else, giving an int status.
    `profile` adds the per-op marker function a profile build's model calls (MARK_OP)."""
    if max(len(input_sizes), len(output_sizes)) > 100:
        raise ValueError("the harness handles at most 100 inputs and 100 outputs")
    return _render("main.c", Path(out_dir) / "main.c", inputs=[int(s) for s in input_sizes],
                   outputs=[int(s) for s in output_sizes], entry=entry, includes=list(includes),
                   call=call, exit_io=EXIT_IO, exit_model=EXIT_MODEL, exit_stack=EXIT_STACK,
                   profile=profile)


def render_startup(out_dir: Path, target: Target) -> Path:
    main = (target.code_region.name, target.ram_region.name)
    zero = [r.name for r in target.regions if r.kind == "ram" and r.name not in main]
    return _render("startup.c", Path(out_dir) / "startup.c", target=target.name,
                   exit_fault=EXIT_FAULT, zero_regions=zero)


def render_linker_script(out_dir: Path, target: Target, stack_size: int | None = None,
                         heap_size: int | None = None) -> Path:
    """Write link.ld: the main flash/ram regions become FLASH/RAM, others get their own
    output section `.<name>` filled from input sections `.fitml.<name>`."""
    main = {target.code_region.name: "FLASH", target.ram_region.name: "RAM"}
    regions, extra = [], []
    for r in target.regions:
        ld_name = main.get(r.name) or r.name.upper()
        if r.name not in main and ld_name in ("FLASH", "RAM"):
            ld_name = f"X_{ld_name}"
        item = dict(name=r.name, kind=r.kind, base=r.base, size=r.size, ld_name=ld_name)
        regions.append(item)
        if r.name not in main:
            extra.append(item)
    return _render("link.ld", Path(out_dir) / "link.ld", target=target.name, regions=regions,
                   extra_regions=extra, stack_size=target.stack_size if stack_size is None
                   else stack_size, heap_size=target.heap_size if heap_size is None else heap_size)


def build_elf(sources: Sequence[Path], include_dirs: Sequence[Path], target: Target | str,
              out_dir: Path, defines: Mapping[str, object] | None = None, *,
              stack_size: int | None = None, heap_size: int | None = None, opt: str = "-O2",
              cflags: Sequence[str] = (), werror: bool = True, name: str = "prog") -> Path:
    """Compile and link `sources` plus the rendered startup.c and link.ld into out_dir/name.elf.
    The sources must define `main` (usually a `render_main` file). Raises BuildError whose
    first line names the overflowing region when the program does not fit."""
    target = load_target(target)
    gcc = tool("arm-none-eabi-gcc")
    out_dir = Path(out_dir)
    startup = render_startup(out_dir, target)
    script = render_linker_script(out_dir, target, stack_size, heap_size)
    elf = out_dir / f"{name}.elf"
    cmd = [gcc, *_checked_cflags(target), opt, "-Wall", "-Wextra",
           *(["-Werror"] if werror else []), *cflags]
    for key, value in (defines or {}).items():
        cmd.append(f"-D{key}" if value is None else f"-D{key}={value}")
    cmd += [f"-I{d}" for d in include_dirs]
    # megabytes of weight arrays take gcc seconds to parse: such a source is compiled once
    # per content, flags and headers, and linked from there (same object, same link order)
    cmd += [str(_big_object(cmd, Path(s), include_dirs) or s) for s in sources]
    cmd += [str(startup), f"-T{script}", *_LINK_FLAGS,
            f"-Wl,-Map={out_dir / (name + '.map')}", "-o", str(elf)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(_build_failure(proc.stderr) + "\n" + proc.stderr)
    return elf


BIG_SOURCE = 1 << 20


def _big_object(cmd: list[str], source: Path, include_dirs) -> Path | None:
    """The object of a source over BIG_SOURCE bytes, compiled with `cmd`'s flags (plus the
    compile-time ones of _LINK_FLAGS) into the build cache, keyed by the compiler, the flags,
    the source and every header of its include directories; None for smaller sources."""
    if source.suffix != ".c" or source.stat().st_size <= BIG_SOURCE:
        return None
    flags = cmd[1:] + [f for f in _LINK_FLAGS if f.startswith(("--specs=", "-f"))]
    gcc = Path(cmd[0]).resolve()
    h = hashlib.sha256(repr((str(gcc), gcc.stat().st_mtime_ns, flags)).encode())
    h.update(source.read_bytes())
    for d in [source.parent, *map(Path, include_dirs)]:
        for header in sorted(Path(d).rglob("*.h")):
            h.update(str(header.relative_to(d)).encode() + b"\0" + header.read_bytes())
    out = cache_root() / "objects" / f"{h.hexdigest()[:32]}.o"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".{os.getpid()}.tmp.o")
    proc = subprocess.run([cmd[0], *flags, "-c", str(source), "-o", str(tmp)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BuildError(_build_failure(proc.stderr) + "\n" + proc.stderr)
    os.replace(tmp, out)
    return out


def _checked_cflags(target: Target) -> tuple[str, ...]:
    """The target's cflags, checked again here: a Target built in code skips the file check."""
    try:
        return check_cflags(target.cflags)
    except ValueError as exc:
        raise TargetError(f"target {target.name!r}: cflags: {exc}") from None


def _build_failure(stderr: str) -> str:
    overflow = re.findall(r"region .(\w+). overflowed by (\d+) bytes", stderr)
    if overflow:
        return "link failed: " + "; ".join(f"region '{r}' overflowed by {n} bytes"
                                           for r, n in overflow)
    errors = [ln for ln in stderr.splitlines() if "error" in ln.lower()]
    return "build failed: " + (errors[0] if errors else "arm-none-eabi-gcc returned an error")


def elf_symbols(elf: Path) -> dict[str, int]:
    """Global and local symbol addresses (Thumb functions have bit 0 clear here)."""
    out = subprocess.run([tool("arm-none-eabi-nm"), str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return {parts[2]: int(parts[0], 16) for parts in (ln.split() for ln in out.splitlines())
            if len(parts) == 3}


@dataclass
class ElfSizes:
    """Bytes of every allocated section, and used per target region (by address; .data counts
    in its RAM region and, as its load image, in the code region)."""
    sections: dict[str, int]
    regions: dict[str, int]

    text = property(lambda self: self.sections.get(".text", 0))
    rodata = property(lambda self: self.sections.get(".rodata", 0))
    data = property(lambda self: self.sections.get(".data", 0))
    bss = property(lambda self: self.sections.get(".bss", 0))


def elf_sizes(elf: Path, target: Target | str) -> ElfSizes:
    target = load_target(target)
    out = subprocess.run([tool("arm-none-eabi-objdump"), "-h", str(elf)], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    sections, regions = {}, {r.name: 0 for r in target.regions}
    for head, flags in zip(out, out[1:]):
        parts = head.split()
        if len(parts) < 7 or not parts[0].isdigit() or "ALLOC" not in flags:
            continue
        name, size, vma, lma = parts[1], int(parts[2], 16), int(parts[3], 16), int(parts[4], 16)
        sections[name] = size
        for addr in {vma, lma} if "LOAD" in flags else {vma}:
            for r in target.regions:
                if r.base <= addr < r.end:
                    regions[r.name] += size
    return ElfSizes(sections, regions)


def run_elf(elf: Path, target: Target | str, inputs: Sequence[bytes], n_outputs: int,
            timeout: float = 60.0, count: bool = True, profile: bool = False) -> QemuResult:
    """Run the harness ELF with input blobs; QEMU's exit code is the program's (0 = success,
    EXIT_FAULT after a HardFault report). Raises QemuTimeout after `timeout` seconds.
    `profile` (an ELF built with profile markers): `marks` holds the counts at each marker."""
    target = load_target(target)
    qemu = tool("qemu-system-arm")
    elf = Path(elf).resolve()
    with tempfile.TemporaryDirectory(prefix="fitml-qemu-") as tmp:
        work = Path(tmp)
        for i, blob in enumerate(inputs):
            (work / f"in{i}.bin").write_bytes(bytes(blob))
        cmd = [qemu, *target.qemu_args(), "-display", "none", "-monitor", "none",
               "-chardev", "stdio,mux=on,id=c0", "-serial", "chardev:c0",
               "-semihosting-config", "enable=on,target=native,chardev=c0", "-kernel", str(elf)]
        counter = work / "insns.txt"
        if count:
            syms = elf_symbols(elf)
            if MARK_BEGIN not in syms or MARK_END not in syms:
                raise QemuError(f"{elf} has no {MARK_BEGIN}/{MARK_END}: not a harness ELF")
            esc = str(counter).replace(",", ",,")  # QEMU option syntax doubles commas
            extra = ""
            if profile:
                if MARK_OP not in syms:
                    raise QemuError(f"{elf} has no {MARK_OP}: not a profile build")
                extra = f"op={syms[MARK_OP]:#x},classes=1,"
            cmd += ["-plugin", f"{str(insn_count_plugin()).replace(',', ',,')},"
                    f"begin={syms[MARK_BEGIN]:#x},end={syms[MARK_END]:#x},{extra}out={esc}"]
        try:
            proc = subprocess.run(cmd, cwd=work, capture_output=True, stdin=subprocess.DEVNULL,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise QemuTimeout(f"QEMU did not finish {elf.name} within {timeout:g} s\n"
                              f"{(e.stdout or b'').decode(errors='replace')}") from None
        stdout = proc.stdout.decode(errors="replace")
        stderr = proc.stderr.decode(errors="replace")
        if proc.returncode != 0 and not stdout and stderr.startswith("qemu-system-arm:"):
            raise QemuError(f"QEMU failed to run {elf.name}: {stderr.strip()}")
        outputs = [(work / f"out{i}.bin").read_bytes() if (work / f"out{i}.bin").exists()
                   else b"" for i in range(n_outputs)]
        stats = _STATS.search(stdout)
        insns, marks = _read_counts(counter) if count else (None, None)
        result = QemuResult(outputs=outputs, exit_code=proc.returncode, instructions=insns,
                            stack_bytes=int(stats.group(2)) if stats else None, stdout=stdout,
                            stderr=stderr,
                            status=int(stats.group(1)) if stats else None,
                            stack_size=int(stats.group(3)) if stats else None,
                            marks=marks if profile else None)
    return result


def _read_counts(path: Path) -> tuple[int | None, list[tuple[int, ...]]]:
    """(instructions between the markers or None, the profile's marker snapshots)."""
    if not path.exists():
        return None, []
    lines = path.read_text().splitlines()
    fields = dict(kv.split("=") for kv in lines[0].split()) if lines else {}
    if fields.get("split", "0") != "0":
        raise QemuError(f"insn_count: a marker was not at the start of a translation block: "
                        f"{fields}")
    marks = [tuple(int(v) for v in ln.split()[1:]) for ln in lines[1:] if ln.startswith("mark ")]
    return (int(fields["insns"]) if int(fields.get("ends", 0)) > 0 else None), marks
