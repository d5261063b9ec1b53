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
from .candidates import configs, int16_layers, layer_weights
from .prune import channel_means, float_weights, prune_channels
from .ranking import Candidate, SearchResult, int16_bases, rank, score

Finetune = Callable[[Graph, dict], Graph]    # (pruned float graph, precision) -> tuned graph
FINETUNE_TOP = 2     # fine-tune this many of the best fitting candidates


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
    # this graph was not built: the int8 build's link line says nothing about it
    return dataclasses.replace(rep, regions=regions,
                               measurement=dataclasses.replace(meas, note=note, link=None))


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
