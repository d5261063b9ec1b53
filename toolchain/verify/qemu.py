"""Cortex-M under QEMU: `run_elf` runs a harness ELF (built by elf.py) on the target's QEMU
machine with the insn_count plugin, which counts the instructions executed between the markers
exactly (same count on every run), and collects the output blobs, the exit code and the stack
high-water mark the harness prints; a HardFault report is decoded into one line.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import FitmlError
from ..targets import Target, load_target
from .elf import elf_symbols, tool
from .harness import MARK_BEGIN, MARK_END, MARK_OP
from .qemu_plugin import insn_count_plugin

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
