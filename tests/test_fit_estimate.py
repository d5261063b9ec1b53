"""`fitml fit`'s estimated candidates: a candidate that was not built gets the int8 build's
code, static data and stack added to its table, but not that build's link result, which says
nothing about the candidate (it once made every estimated candidate of a model whose int8
build overflows look unlinkable, and the board-sized link could not decide verdicts)."""
from __future__ import annotations

import dataclasses

from conftest import shared_model
from toolchain import api
from toolchain.fit.search import estimate
from toolchain.report.fit import fit
from toolchain.targets import load_target

HELLO = shared_model("tflm/hello_world_int8.tflite")
FAILED = "link failed: region 'FLASH' overflowed by 60624 bytes"


def test_an_estimate_carries_the_measured_sizes_but_not_the_other_builds_link():
    graph = api.load(HELLO)
    measured = fit(graph, "cortex-m4").measurement
    assert measured.link == "ok" and measured.code_bytes, measured
    other = dataclasses.replace(measured, link=FAILED)
    rep = estimate(graph, load_target("cortex-m4"), other)
    assert rep.measurement.link is None, rep.measurement
    assert rep.measurement.code_bytes == measured.code_bytes
    assert rep.fits and "does not link" not in rep.verdict(), rep.verdict()


def test_a_measured_link_failure_decides_the_verdict():
    rep = fit(api.load(HELLO), "cortex-m4")
    bad = dataclasses.replace(rep, measurement=dataclasses.replace(rep.measurement, link=FAILED))
    assert rep.fits and not bad.fits
    assert f"the board-sized build does not link: {FAILED}" in bad.verdict(), bad.verdict()
