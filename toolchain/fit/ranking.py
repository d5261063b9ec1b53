"""The candidates of `fitml fit` and their order: what a candidate holds (its int8 graph, its
fit, its scores against the float model), the search's result, the ranking (least lossy first,
ties within sampling noise broken by score SNR, then flash) and which candidates get int16
activation variants."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..ir import Graph
from ..quant.score import Reference, loss
from ..report.fit_report import FitReport
from .candidates import Config
from .prune import LayerChange

INT16_BASES = 3      # candidates (least lossy first) that get int16-activation variants


@dataclass
class Candidate:
    config: Config
    graph: Graph                   # the int8 graph
    float_graph: Graph             # the pruned float graph it was quantized from
    fit: FitReport                 # estimated (measured when `measured`)
    changes: list[LayerChange]
    agreement: float = math.nan
    accuracy: float | None = None
    snr_db: float = math.nan
    drop: float = math.nan         # top-1 points lost against the float model
    finetuned: bool = False
    measured: bool = False

    name = property(lambda self: self.config.name + (" + finetuned" if self.finetuned else ""))
    fits = property(lambda self: self.fit.fits)
    macs = property(lambda self: sum(o.macs for o in self.fit.ops))
    flash = property(lambda self: used(self.fit, "flash"))
    ram = property(lambda self: used(self.fit, "ram"))


@dataclass
class SearchResult:
    target: str
    float_accuracy: float | None
    metric: str                    # "accuracy" (labels given) or "agreement"
    samples: int
    candidates: list[Candidate] = field(default_factory=list)
    chosen: Candidate | None = None
    reason: str = ""               # why nothing was chosen
    float_graph: Graph | None = None   # the original float model, after the CLEANUP passes
    budget: dict = field(default_factory=dict)   # total flash and RAM capacity (bytes)

    @property
    def ok(self) -> bool:
        return self.chosen is not None


def used(rep: FitReport, kind: str) -> int:
    """Bytes used over the regions of one kind ("flash" or "ram")."""
    return sum(r.used for r in rep.regions if r.kind == kind)


def int16_bases(cands: list[Candidate], max_drop: float | None) -> list[Candidate]:
    """The candidates int16 activations may help: they fit (RAM headroom to spend) and lose
    more than max_drop (without one: lose anything and use int4 or pruning). The plain int8
    one if it is such, then the least lossy others: INT16_BASES at most."""
    def ok(c):
        lossy = c.drop > max_drop + 1e-9 if max_drop is not None else (
            c.drop > 1e-9 and bool(c.config.precision or c.config.prune))
        return c.fits and lossy and not c.config.int16 and not c.finetuned
    plain = [c for c in cands if ok(c) and not (c.config.precision or c.config.prune)]
    rest = sorted((c for c in cands if ok(c) and c not in plain),
                  key=lambda c: (c.drop, -finite(c.snr_db)))
    return (plain + rest)[:INT16_BASES]


def score(cand: Candidate, ref: Reference) -> None:
    """Agreement, accuracy and score SNR of the candidate against the float model."""
    got = loss(ref, cand.graph)
    cand.agreement, cand.accuracy, cand.snr_db, cand.drop = (got.agreement, got.accuracy,
                                                             got.snr_db, got.drop)


def tolerance_points(samples: int) -> float:
    """Top-1 points by which two candidates' drops may differ and still count as a tie: the
    sampling noise of a count of right answers, sqrt(n) / 4 samples of n and at least 2
    (n = 200: 3.5 samples, 1.8 points; n = 10,000: 25 samples, 0.25 points)."""
    return 100.0 * max(2.0, math.sqrt(samples) / 4) / max(samples, 1)


def rank(cands: list[Candidate], samples: int) -> list[Candidate]:
    """Fitting candidates, least lossy first, one rule with or without labels: drops (accuracy
    lost with labels, top-1 agreement lost without) within `tolerance_points` of the best one
    left are a tie, broken by the higher score SNR, then the smaller flash."""
    left = [c for c in cands if c.fits]
    tol = tolerance_points(samples) + 1e-9
    out = []
    while left:
        best = min(c.drop for c in left)
        pick = max((c for c in left if c.drop <= best + tol),
                   key=lambda c: (finite(c.snr_db), -c.flash))
        out.append(pick)
        left.remove(pick)
    return out


def finite(x: float) -> float:
    """An SNR to sort by: +inf as 1e9, -inf and NaN as -1e9."""
    return 1e9 if math.isinf(x) and x > 0 else (-1e9 if math.isnan(x) or math.isinf(x) else x)
