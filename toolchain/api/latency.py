"""Estimated latency of one inference on a board (`fitml check --max-ms`).

One profile build and QEMU run (verify/profile.py: exact instructions per op and class) on the
board's own target, priced by the core's timing table (zero-wait memory) at the board's clock:
an estimate, as `fitml verify --profile` reports it.
"""
from __future__ import annotations

from ..errors import UsageError
from ..verify.baseline_inputs import lcg_inputs
from ..verify.cexec import run_qemu
from .checking import partitioned, target_with
from .core import load


def estimated_ms(model, target: str, ram=None, flash=None, partition="auto") -> dict:
    """{"est_cycles", "est_ms", "clock_hz", "instructions"} of one inference on `target`."""
    tgt = target_with(target, ram, flash)
    if not tgt.clock_hz:
        raise UsageError(f"--max-ms needs a clock: target {tgt.name} has none (give a board, "
                         "or a .toml with clock_hz)")
    graph, _ = partitioned(load(model), tgt, partition)
    prof = run_qemu(graph, lcg_inputs(graph), target=tgt, profile=True).stats["profile"]
    cycles = prof.total_cycles
    if cycles is None:
        raise UsageError(f"--max-ms: no timing table for {tgt.core}; cycles cannot be estimated")
    return {"est_cycles": round(cycles), "est_ms": 1000.0 * cycles / tgt.clock_hz,
            "clock_hz": tgt.clock_hz, "instructions": prof.instructions}
