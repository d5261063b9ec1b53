"""LiteRT (ai-edge-litert) as an oracle executor.

`resolver="default"` runs LiteRT as an app on a phone does: its default op resolver, optimized
kernels and the XNNPACK delegate. Those kernels round differently from TFLite's reference ones
(a few LSB on some inputs), so they predict what a phone computes, not the bit-exact answer.
`resolver="reference"` runs the reference kernels, bit-exact with TFLite Micro and fitml.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

RESOLVERS = ("default", "reference")


def run_litert(model: bytes, inputs: Sequence[np.ndarray],
               resolver: str = "reference") -> list[np.ndarray]:
    from ai_edge_litert import interpreter as litert  # lazy: loads the LiteRT runtime

    kind = {"default": litert.OpResolverType.AUTO,
            "reference": litert.OpResolverType.BUILTIN_REF}[resolver]
    interp = litert.Interpreter(model_content=bytes(model), experimental_op_resolver_type=kind)
    interp.allocate_tensors()
    for detail, value in zip(interp.get_input_details(), inputs):
        interp.set_tensor(detail["index"], np.ascontiguousarray(value).reshape(detail["shape"]))
    interp.invoke()
    return [np.array(interp.get_tensor(d["index"])) for d in interp.get_output_details()]


def run_litert_default(model: bytes, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """LiteRT with its default resolver (a module-level function: runs in a child process)."""
    return run_litert(model, inputs, "default")
