"""The input of the TFLite Micro baseline figures (../shared/baselines): a fixed LCG byte stream
(seed 12345, s = s * 1103515245 + 12345, byte = (s >> 16) & 0xff), reinterpreted as int8,
filling every graph input in order, so fitml's counts are measured on the same bytes."""
from __future__ import annotations

import numpy as np

from ..ir import Graph


def lcg_inputs(graph: Graph) -> list[np.ndarray]:
    s, out = 12345, []
    for name in graph.inputs:
        t = graph.tensors[name]
        data = bytearray()
        for _ in range(t.nbytes):
            s = (s * 1103515245 + 12345) & 0xFFFFFFFF
            data.append((s >> 16) & 0xFF)
        out.append(np.frombuffer(bytes(data), np.int8).reshape(t.shape))
    return out
