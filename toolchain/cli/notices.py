"""Notices on stderr for inputs fitml accepts but the user may not mean: an integer array fed
to a float model is cast value for value (120 stays 120.0), never dequantized."""
from __future__ import annotations

import sys

import numpy as np

from ..ir import Graph
from ..util.text import printable


def announce_casts(graph: Graph, inputs) -> None:
    """One line per integer input array going into a float32 model input."""
    for i, (name, value) in enumerate(zip(graph.inputs, inputs)):
        want = graph.tensors[name].dtype
        got = np.asarray(value).dtype
        if want == "float32" and got.kind in "biu":
            print(f"fitml: note: input {i} ({printable(name)}) is {got} but the model takes "
                  f"float32: values cast as they are, not dequantized (give float32 data, or "
                  f"run the quantized model)", file=sys.stderr)
