"""`fitml fit`: find the least lossy int4 / pruning / int16-activation configuration that fits
a target.

Every candidate (candidates.py) is built for real: pruned on the float graph, quantized by
fitml's PTQ with its per-layer precision, sized by the fit machinery (the memory plan and
the arrays as the C backend emits them, with code, static data and stack measured once on
the int8 build) and scored against the original float model on the validation data (or the
calibration data): top-1 agreement, accuracy with labels, output SNR. The least lossy
candidate that fits wins; its fit is then measured on its own ELF, and the next best is taken
if that measurement says it does not fit after all. The least lossy fitting candidates that
lose too much (more than max_drop; without it, int4/pruned ones that lose anything) are tried
again with int16 activations (16x8) on the layers adding most noise in the int8 model, 1, 2,
4, 8 and all of them: RAM is spent to win accuracy back, and the estimate counts the doubled
activation bytes.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import UsageError
from ..ir import Graph
from ..passes import CLEANUP, run_pipeline
from ..quant.calibration import collect, iter_samples, progress_bar
from ..quant.promote import noise_order
from ..quant.ptq import quantize
from ..quant.score import Reference, loss, reference
from ..report.fit import fit, with_overrides
from ..report.fit_report import FitReport, Item, Measurement
from ..targets import load_target
from .candidates import Config, configs, int16_layers, layer_weights
from .prune import LayerChange, channel_means, float_weights, prune_channels

Finetune = Callable[[Graph, dict], Graph]    # (pruned float graph, precision) -> tuned graph
FINETUNE_TOP = 2     # fine-tune this many of the best fitting candidates
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
    flash = property(lambda self: _used(self.fit, "flash"))
    ram = property(lambda self: _used(self.fit, "ram"))


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


def _used(rep: FitReport, kind: str) -> int:
    return sum(r.used for r in rep.regions if r.kind == kind)


def estimate(graph: Graph, tgt, meas: Measurement, reserve: int = 0) -> FitReport:
    """The fit report of `graph` (not built) with the code, static data and stack measured
    on another build (`meas`, the int8 one) added to the main flash and RAM regions."""
    rep = fit(graph, tgt, reserve_ram=reserve, measure=False)
    extra = {tgt.code_region.name: (("code", meas.code_bytes, "code"),
                                    ("initialised data", meas.data_init_bytes, "data_init")),
             tgt.ram_region.name: (("static data", meas.static_ram_bytes, "static"),
                                   ("stack", meas.stack_bytes, "stack"))}
    regions = tuple(dataclasses.replace(r, contents=r.contents + tuple(
        Item(what, v, key) for what, v, key in extra.get(r.name, ()) if v)) for r in rep.regions)
    note = "estimated: code, static data and stack as measured on the int8 build"
    return dataclasses.replace(rep, regions=regions,
                               measurement=dataclasses.replace(meas, note=note))


def search(graph: Graph, target, calib, val=None, labels=None, max_drop: float | None = None,
           ram: int | None = None, flash: int | None = None, reserve_ram: int = 0,
           criterion: str = "activation", observer: str = "minmax", measure: bool = True,
           finetune: Finetune | None = None, progress: bool | None = None) -> SearchResult:
    """Try every configuration; choose the least lossy one that fits (see module doc)."""
    float0 = float_weights(run_pipeline(graph.validate(), CLEANUP))
    tgt = with_overrides(load_target(target), ram, flash)
    calib_samples = list(iter_samples(calib, float0))
    data = calib_samples if val is None else list(iter_samples(val, float0))
    if labels is not None and len(np.ravel(labels)) != len(data):
        raise UsageError(f"{len(np.ravel(labels))} labels for {len(data)} validation samples")
    ref = reference(float0, data, labels)
    result = SearchResult(tgt.name, ref.accuracy, "accuracy" if labels is not None else
                          "agreement", len(data), float_graph=float0,
                          budget={k: sum(r.size for r in tgt.regions if r.kind == k)
                                  for k in ("flash", "ram")})
    means = channel_means(float0, calib_samples) if criterion == "activation" else None
    hist = observer != "minmax"                     # the minmax observer needs no histograms
    pruned = {(): (float0, [], collect(float0, calib_samples, histograms=hist))}
    int8 = quantize(float0, pruned[()][2], observer)
    meas = fit(int8, tgt, measure=measure, reserve_ram=reserve_ram).measurement
    order = int4_order(float0, pruned[()][2], observer, ref, int8)
    for cfg in progress_bar(configs(float0, order), progress, "fitting"):
        key = tuple(sorted(cfg.prune.items()))
        if key not in pruned:
            g, changes = prune_channels(float0, cfg.prune, criterion, means=means)
            pruned[key] = (g, changes, collect(g, calib_samples, histograms=hist))
        g, changes, st = pruned[key]
        q = quantize(g, st, observer, precision=cfg.precision)
        cand = Candidate(cfg, q, g, estimate(q, tgt, meas, reserve_ram), changes)
        score(cand, ref)
        result.candidates.append(cand)
    order16 = noise_order(float0, int8, data)
    for base in int16_bases(result.candidates, max_drop):
        g, changes, st = pruned[tuple(sorted(base.config.prune.items()))]
        for layers in int16_layers(g, order16, base.config):
            cfg = dataclasses.replace(base.config, int16=tuple(layers))
            q = quantize(g, st, observer, precision=cfg.precision, activations=cfg.activations)
            cand = Candidate(cfg, q, g, estimate(q, tgt, meas, reserve_ram), changes)
            score(cand, ref)
            result.candidates.append(cand)
    ranked = rank(result.candidates, len(data))
    if finetune is not None and ranked:
        for cand in ranked[:FINETUNE_TOP]:
            tuned = tune(cand, finetune, calib_samples, observer, tgt, meas, reserve_ram)
            score(tuned, ref)
            result.candidates.append(tuned)
        ranked = rank(result.candidates, len(data))
    choose(result, ranked, max_drop, target, ram, flash, reserve_ram, measure)
    return result


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
                  key=lambda c: (c.drop, -_finite(c.snr_db)))
    return (plain + rest)[:INT16_BASES]


def int4_order(float0: Graph, stats, observer: str, ref: Reference, int8: Graph,
               probe_share: float = 0.02) -> list[str]:
    """Weighted layers, those whose int4 weights add the least noise per byte saved first.

    Each layer holding at least `probe_share` of the weight bytes is quantized alone in int4
    and the noise it adds to the scores (NSR, against the all-int8 graph's) is measured;
    smaller layers follow, heaviest first."""
    sizes = layer_weights(float0)
    total = max(sum(sizes.values()), 1)
    nsr8 = _nsr(loss(ref, int8).snr_db)
    cost = {}
    for name, size in sizes.items():
        if size >= probe_share * total:
            q = quantize(float0, stats, observer, precision={name: "int4"})
            cost[name] = max(_nsr(loss(ref, q).snr_db) - nsr8, 0.0) / size
    probed = sorted(cost, key=lambda n: cost[n])
    return probed + [n for n in sizes if n not in cost]


def _nsr(snr: float) -> float:
    return 0.0 if math.isinf(snr) and snr > 0 else 10.0 ** (-snr / 10.0)


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
                   key=lambda c: (_finite(c.snr_db), -c.flash))
        out.append(pick)
        left.remove(pick)
    return out


def _finite(x: float) -> float:
    return 1e9 if math.isinf(x) and x > 0 else (-1e9 if math.isnan(x) or math.isinf(x) else x)


def tune(cand: Candidate, finetune: Finetune, calib, observer, tgt, meas, reserve) -> Candidate:
    """The candidate rebuilt from fine-tuned float weights (int4 layers fake-quantized)."""
    tuned = finetune(cand.float_graph, dict(cand.config.precision))
    q = quantize(tuned, collect(tuned, calib, histograms=observer != "minmax"), observer,
                 precision=cand.config.precision,
                 activations=cand.config.activations)
    return Candidate(cand.config, q, tuned, estimate(q, tgt, meas, reserve), cand.changes,
                     finetuned=True)


def choose(result: SearchResult, order, max_drop, target, ram, flash, reserve, measure) -> None:
    """The best candidate whose measured fit holds and whose loss is within max_drop."""
    if not order:
        small = min(result.candidates, key=lambda c: (c.flash, c.ram))
        result.reason = (f"no candidate fits {result.target}; the smallest reached is "
                         f"{small.name}: flash {small.flash:,} B, RAM {small.ram:,} B; "
                         + small.fit.verdict())
        return
    within = [c for c in order if max_drop is None or c.drop <= max_drop + 1e-9]
    if not within:
        best = min(order, key=lambda c: c.drop)
        result.reason = (f"the least lossy fitting candidate ({best.name}) loses "
                         f"{best.drop:.2f} points of top-1 {result.metric}, more than "
                         f"--max-drop {max_drop:g}")
        return
    for cand in within:
        if measure:
            rep = fit(cand.graph, target, ram, flash, reserve, measure=True)
            cand.fit, cand.measured = dataclasses.replace(rep, model=""), True
            if not rep.fits:
                continue
        result.chosen = cand
        return
    result.reason = "every candidate predicted to fit overflowed once built: " + \
        within[-1].fit.verdict()
