"""`--int16 auto`: which layers get int16 activations (TFLite's 16x8 scheme).

The rule, measured rather than guessed:
1. order: quantize all-int8 and take, from `accuracy.evaluate`'s per-layer table, the layers
   with an int16 form that add noise, noisiest first (`added_db`);
2. try each prefix of that order (the 1, 2, ... noisiest layers int16) that still fits the RAM
   budget (`fits(graph)`: int16 doubles those activation bytes), measuring the output SNR
   against the float model on the calibration samples;
3. promote nothing unless the best fitting prefix gains at least MIN_GAIN_DB over all-int8;
   otherwise take the shortest prefix within NEAR_DB of the best one (a layer that buys less
   than that is not worth its RAM).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from ..ir import Graph
from . import mixed
from .accuracy import evaluate
from .score import loss, reference

MIN_GAIN_DB = 1.0        # below this, int16 activations are not worth their RAM
NEAR_DB = 0.5            # a prefix this close to the best one is as good
MAX_LAYERS = 16          # prefixes tried at most


@dataclass
class Trial:
    layers: tuple[str, ...]
    snr_db: float | None           # None: not measured (over the RAM budget)
    ram_bytes: int | None
    fits: bool


@dataclass
class AutoChoice:
    layers: list[str]              # promoted to int16 activations
    base_snr_db: float             # all int8
    snr_db: float                  # with `layers` int16
    trials: list[Trial] = field(default_factory=list)

    @property
    def activations(self) -> dict[str, str]:
        return {n: "int16" for n in self.layers}

    def to_dict(self) -> dict:
        num = lambda x: None if x is None or not math.isfinite(x) else x  # noqa: E731
        return {"mode": "auto", "layers": list(self.layers), "int8_snr_db": num(self.base_snr_db),
                "snr_db": num(self.snr_db), "min_gain_db": MIN_GAIN_DB, "near_db": NEAR_DB,
                "trials": [{"layers": list(t.layers), "snr_db": num(t.snr_db),
                            "ram_bytes": t.ram_bytes, "fits": t.fits} for t in self.trials]}


def noise_order(float_graph: Graph, int8_graph: Graph, samples) -> list[str]:
    """Layers with an int16 form that add noise in the int8 model, noisiest first."""
    names = set(mixed.layers(float_graph))
    rows = [r for r in evaluate(float_graph, int8_graph, samples, progress=False).layers
            if r.tensor in names and r.added_db > -math.inf]
    return [r.tensor for r in sorted(rows, key=lambda r: -r.added_db)]


def auto(float_graph: Graph, stats, samples, fits: Callable[[Graph], tuple[bool, int]],
         quantize: Callable[..., Graph]) -> AutoChoice:
    """The int16 layers for `float_graph` (after the CLEANUP passes) by the module's rule.

    stats: its calibration statistics; samples: input lists the SNR is measured on;
    fits(graph) -> (fits the RAM budget, RAM bytes); quantize(stats, activations) -> graph."""
    ref = reference(float_graph, samples)
    int8 = quantize(stats, "int8")
    base = loss(ref, int8).snr_db
    best = AutoChoice([], base, base)
    order = noise_order(float_graph, int8, samples)[:MAX_LAYERS]
    for k in range(1, len(order) + 1):
        acts = {n: "int16" for n in order[:k]}
        q = quantize(stats, acts)
        ok, ram = fits(q)
        snr = loss(ref, q).snr_db if ok else None
        best.trials.append(Trial(tuple(order[:k]), snr, ram, ok))
    measured = [t for t in best.trials if t.snr_db is not None]
    if not measured:
        return best
    top = max(t.snr_db for t in measured)
    if top - base < MIN_GAIN_DB:
        return best
    pick = next(t for t in measured if t.snr_db >= top - NEAR_DB)
    best.layers, best.snr_db = list(pick.layers), pick.snr_db
    return best
