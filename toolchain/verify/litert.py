"""LiteRT (ai-edge-litert) with its reference op resolver as an oracle executor."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def run_litert(model: bytes, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    from ai_edge_litert import interpreter as litert  # lazy: loads the LiteRT runtime

    interp = litert.Interpreter(model_content=bytes(model),
                                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    interp.allocate_tensors()
    for detail, value in zip(interp.get_input_details(), inputs):
        interp.set_tensor(detail["index"], np.ascontiguousarray(value).reshape(detail["shape"]))
    interp.invoke()
    return [np.array(interp.get_tensor(d["index"])) for d in interp.get_output_details()]
