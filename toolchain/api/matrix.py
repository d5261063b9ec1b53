"""`check` over many models x many targets, in parallel: a process pool on this machine, or a
Ray cluster for model zoos that outgrow one (`ray_address`; Ray is the optional `fitml[ray]`).

Each cell is one `check` in a worker; the CLI's plan options (--memory, --input-buffer) travel
with it, as the workers do not share the caller's context. A cell that raises a fitml error is
reported in its cell (status "error"), the others still run.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

from ..backends.cmemory import caller_inputs, scratch_free
from ..errors import FitmlError
from ..report.matrix import Cell
from .checking import check


def check_cell(model: str, target: str, options: dict) -> Cell:
    """One check, as plain data. `options`: check's keyword arguments plus `memory` ("auto",
    "fast", "small") and `input_buffer` (False, True or a region name)."""
    opts = dict(options)
    memory, inputs = opts.pop("memory", "auto"), opts.pop("input_buffer", False)
    small = None if memory == "auto" else memory == "small"
    try:
        with scratch_free(small), caller_inputs(inputs):
            return Cell.of(str(model), target, check(model, target, **opts))
    except FitmlError as exc:
        return Cell(str(model), target, "error", str(exc).splitlines()[0])


def check_matrix(models, targets, options: dict | None = None, jobs: int | None = None,
                 ray_address: str | None = None) -> list[Cell]:
    """Every (model, target) pair, in the order models x targets."""
    pairs = [(str(m), t) for m in models for t in targets]
    options = options or {}
    if ray_address:
        return _on_ray(pairs, options, ray_address, jobs)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(pairs)))
    if jobs == 1:
        return [check_cell(m, t, options) for m, t in pairs]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(check_cell, m, t, options) for m, t in pairs]
        return [f.result() for f in futures]


def _on_ray(pairs, options: dict, address: str, jobs: int | None) -> list[Cell]:
    import ray  # lazy: optional extra fitml[ray], only for --ray (the CLI names the extra)
    started = not ray.is_initialized()
    if started:
        if address == "local":      # a throwaway single-machine cluster
            ray.init(num_cpus=jobs or os.cpu_count(), include_dashboard=False,
                     log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    try:
        remote = ray.remote(check_cell)
        return ray.get([remote.remote(m, t, options) for m, t in pairs])
    finally:
        if started:
            ray.shutdown()
