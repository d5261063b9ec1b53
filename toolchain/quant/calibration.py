"""Calibration data and the activation statistics gathered once over it.

Samples come from a directory of .npy/.npz files (or one such file) or from any iterable of
input lists; each is checked against the graph's inputs so a wrong shape fails with a message
naming the file. `collect` runs the float reference once per sample and keeps, for every float
activation, its exact min/max and a histogram, which every observer then reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import UsageError
from ..ir import Graph
from ..ops.interpreter import has_state, run_graph, state_names
from ..util.arrays import load_arrays
from ..util.progress import progress_bar
from .sample_checks import checked_values

BINS = 4096          # histogram bins over [-R, R]; R grows by doubling (bins merge in pairs)


def _expand(arr, t, where: str) -> list[np.ndarray]:
    """One array for input tensor `t` -> the samples it holds (itself, or a stack [N, ...])."""
    arr = checked_values(np.asarray(arr), t, where)
    shape = t.shape
    if arr.shape == shape:
        return [arr]
    if shape and shape[0] == 1:
        if arr.shape == shape[1:]:
            return [arr.reshape(shape)]
        if arr.ndim == len(shape) and arr.shape[1:] == shape[1:]:
            return [a.reshape(shape) for a in arr]
    stack = f" (or a stack {['N'] + list(shape[1:])})" if shape and shape[0] == 1 else ""
    raise UsageError(f"{where}: input {t.name!r} expects shape {list(shape)}{stack}, got "
                     f"{list(arr.shape)}")


def _split(arrays: list, graph: Graph, where: str) -> list[list[np.ndarray]]:
    """Arrays (one per graph input) -> samples (lists of one array per input)."""
    if len(arrays) != len(graph.inputs):
        raise UsageError(f"{where}: the model has {len(graph.inputs)} inputs, got "
                         f"{len(arrays)} arrays")
    per_input = [_expand(a, graph.tensors[n], where) for a, n in zip(arrays, graph.inputs)]
    counts = {len(p) for p in per_input}
    if len(counts) != 1:
        raise UsageError(f"{where}: inputs hold different numbers of samples {sorted(counts)}")
    return [list(s) for s in zip(*per_input)]


def _read_file(path: Path, graph: Graph) -> list[list[np.ndarray]]:
    data = load_arrays(path, "calibration array")
    if isinstance(data, dict):   # an .npz file
        keys = list(data)
        if set(graph.inputs) <= set(keys):
            keys = list(graph.inputs)            # keyed by input name
        arrays = [data[k] for k in keys]
    else:
        arrays = [data]
    return _split(arrays, graph, str(path))


def iter_samples(source, graph: Graph) -> Iterator[list[np.ndarray]]:
    """Checked samples from a directory/file path or an iterable of input lists (or arrays)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in (".npy", ".npz"))
            if not files:
                raise UsageError(f"{path}: no .npy or .npz calibration files")
        elif path.is_file():
            files = [path]
        else:
            raise UsageError(f"{path}: no such calibration file or directory")
        for f in files:
            yield from _read_file(f, graph)
        return
    if isinstance(source, np.ndarray):
        yield from _split([source], graph, "calibration array")
        return
    for i, item in enumerate(source):
        arrays = list(item) if isinstance(item, (list, tuple)) else [item]
        yield from _split(arrays, graph, f"calibration sample {i}")


@dataclass
class TensorStats:
    """Running statistics of one float tensor: exact min/max and a symmetric histogram."""

    minimum: float = np.inf
    maximum: float = -np.inf
    radius: float = 0.0                              # histogram spans [-radius, radius]
    counts: np.ndarray = field(default_factory=lambda: np.zeros(BINS, np.int64))
    zeros: int = 0                                   # zeros seen before the radius was known
    histogram: bool = True                           # False: min/max only (the minmax observer)

    def update(self, values: np.ndarray) -> None:
        x = np.asarray(values).ravel()
        if x.size == 0:
            return
        lo, hi = float(x.min()), float(x.max())       # exact in the values' own dtype
        if not (np.isfinite(lo) and np.isfinite(hi)):  # NaN or inf somewhere: drop them
            x = np.asarray(x, np.float64)
            x = x[np.isfinite(x)]
            if x.size == 0:
                return
            lo, hi = float(x.min()), float(x.max())
        self.minimum = min(self.minimum, lo)
        self.maximum = max(self.maximum, hi)
        if not self.histogram:
            return
        peak = max(abs(lo), abs(hi))
        if peak == 0.0 and self.radius == 0.0:
            self.zeros += x.size
            return
        if self.radius == 0.0:
            self.radius = 2.0 ** np.ceil(np.log2(peak))
            self.counts[BINS // 2] += self.zeros
        while peak > self.radius:                    # double the span, merge bins in pairs
            merged = self.counts.reshape(-1, 2).sum(axis=1)
            self.counts = np.zeros(BINS, np.int64)
            self.counts[BINS // 4:BINS // 4 + BINS // 2] = merged
            self.radius *= 2
        # bin floor((x + R) * BINS / 2R) in float64, in cache-sized chunks; x + R >= 0, so the
        # integer cast is the floor, and only x == R reaches BINS (counted in the last bin)
        counts, scale = np.zeros(BINS + 1, np.int64), BINS / (2 * self.radius)
        for i in range(0, x.size, 1 << 16):
            pos = np.add(x[i:i + (1 << 16)], self.radius, dtype=np.float64)
            pos *= scale
            counts += np.bincount(pos.astype(np.int64), minlength=BINS + 1)
        counts[BINS - 1] += counts[BINS]
        self.counts += counts[:BINS]

    @property
    def total(self) -> int:
        return int(self.counts.sum()) + (self.zeros if self.radius == 0.0 else 0)

    def edges(self) -> np.ndarray:
        return np.linspace(-self.radius, self.radius, BINS + 1)

    def centers(self) -> np.ndarray:
        e = self.edges()
        return (e[:-1] + e[1:]) / 2


@dataclass
class CalibrationStats:
    """Statistics of every float activation of one graph, by tensor name."""

    tensors: dict[str, TensorStats]
    samples: int

    def __getitem__(self, name: str) -> TensorStats:
        return self.tensors[name]


def collect(graph: Graph, source, progress: bool | None = None,
            histograms: bool = True) -> CalibrationStats:
    """Run the float reference over every calibration sample and gather statistics once.
    histograms=False keeps min/max only: enough for the minmax observer, and a third of the
    time of a large model's calibration saved.

    A stateful graph (SVDF, LSTM) runs the samples as one stream, its state kept from one to the
    next as the deployed model (and TFLite's calibrator) runs them; the states' values are
    gathered too."""
    names = [n for n, t in graph.tensors.items() if t.dtype == "float32" and not t.is_const]
    names += [n for n in state_names(graph) if graph.tensors[n].dtype == "float32"]
    state = {} if has_state(graph) else None
    stats = {n: TensorStats(histogram=histograms) for n in names}
    count = 0
    total = len(source) if hasattr(source, "__len__") and not isinstance(source, str) else None
    for inputs in progress_bar(iter_samples(source, graph), progress, "calibrating", total):
        values = run_graph(graph, inputs, keep_all=True, state=state)
        for n in names:
            stats[n].update(values[n])
        count += 1
    if count == 0:
        raise UsageError("calibration data holds no samples")
    return CalibrationStats(stats, count)
