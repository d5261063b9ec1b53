"""Cycles ESTIMATED from instruction counts: a per-core timing table per instruction class.

QEMU counts instructions exactly but models no pipeline, so cycles are an estimate: each
instruction class (counted by the insn_count plugin from the Thumb encodings) costs the cycles
the core's Technical Reference Manual gives for it, with zero-wait-state memory. What the
estimate leaves out: pipelined neighbouring loads/stores (the M3/M4 TRMs: an LDR or STR after a
load can take 1 cycle instead of 2, so load/store-heavy code runs faster than estimated),
whether a branch is taken (1 + P cycles taken, P = 1..3 refill; 1 not taken: taken as 2),
wait states of real flash, caches, and dual issue (Cortex-M7) or beat-wise vector execution
(Cortex-M55). Milliseconds are these cycles at the board's clock (`clock_hz` in its .toml).
"""
from __future__ import annotations

from dataclasses import dataclass

CLASSES = ("load_store", "multiply", "branch", "other")


@dataclass(frozen=True)
class Timing:
    """Cycles per instruction of each class, plus per extra register of LDM/STM/PUSH/POP."""
    load_store: float
    multiply: float
    branch: float
    other: float
    extra_register: float
    source: str

    def cycles(self, counts: dict) -> float:
        """Estimated cycles of class counts {load_store, multiply, branch, other,
        extra_registers}."""
        return (counts["load_store"] * self.load_store + counts["multiply"] * self.multiply
                + counts["branch"] * self.branch + counts["other"] * self.other
                + counts.get("extra_registers", 0) * self.extra_register)


_M4 = ("Arm Cortex-M4 Technical Reference Manual r0p1 (Arm 100166_0001_00_en), section 3.3.1, "
       "Table 3-1: data processing 1, MUL/MLA/SMLAD/SMULL/SMLAL 1, LDR/STR 2, LDM/STM/PUSH/POP "
       "1 + N, branches 1 + P (P = 1..3; taken as 1)")
_NO_TABLE = ("assumed equal to the Cortex-M4 table (its Technical Reference Manual, Arm 100166, "
             "Table 3-1): no per-instruction cycle table for the {core} is taken from Arm's "
             "documentation here ({doc}; {why})")

TIMINGS: dict[str, Timing] = {
    "cortex-m4": Timing(2, 1, 2, 1, 1, _M4),
    "cortex-m3": Timing(2, 2, 2, 1, 1, (
        "Arm Cortex-M3 Technical Reference Manual r2p1 (DDI 0337I), section 3.3.1, Table 3.1: "
        "data processing 1, MUL 1, MLA/MLS 2, SMULL/UMULL 3-5, LDR/STR 2, LDM/STM 1 + N, "
        "branches 1 + P (P = 1..3; taken as 1); multiplies taken as 2")),
    "cortex-m7": Timing(2, 1, 2, 1, 1, _NO_TABLE.format(
        core="Cortex-M7", doc="its TRM, DDI 0489, gives none",
        why="an upper estimate: the M7 is dual-issue")),
    "cortex-m33": Timing(2, 1, 2, 1, 1, _NO_TABLE.format(
        core="Cortex-M33", doc="its TRM, Arm 100230, gives none", why="a rough estimate")),
    "cortex-m55": Timing(2, 1, 2, 1, 1, _NO_TABLE.format(
        core="Cortex-M55", doc="Arm documents its latencies in the Cortex-M55 Software "
        "Optimization Guide, not used yet", why="MVE vector instructions take several beats, "
        "so vector code runs slower than this estimate")),
}


def timing_for(core: str) -> Timing | None:
    """The core's timing table, or None (no documented timings: cycles not estimated)."""
    return TIMINGS.get(core)
