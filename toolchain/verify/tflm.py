"""TFLite Micro (the `tflite-micro` package) as an oracle executor for .tflite flatbuffers."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from ai_edge_litert import schema_py_generated as schema

DEFAULT_ARENA = 4 * 1024 * 1024


def run_tflm(model: bytes, inputs: Sequence[np.ndarray], arena_size: int = DEFAULT_ARENA,
             preserve_all: bool = False):
    """Run one inference. With preserve_all, returns (outputs, interpreter) for GetTensor."""
    from tflite_micro import runtime  # lazy: tflite-micro is optional (fitml[tflm])

    config = (runtime.InterpreterConfig.kPreserveAllTensors if preserve_all
              else runtime.InterpreterConfig.kAllocationRecording)
    interp = runtime.Interpreter.from_bytes(bytes(model), arena_size=arena_size,
                                            intrepreter_config=config)
    for i, value in enumerate(inputs):
        interp.set_input(np.ascontiguousarray(value), i)
    interp.invoke()
    count = schema.Model.GetRootAs(bytes(model), 0).Subgraphs(0).OutputsLength()
    outputs = [np.array(interp.get_output(i)) for i in range(count)]
    if preserve_all:
        return outputs, interp
    return outputs


def run_tflm_sequence(model: bytes, steps, arena_size: int = DEFAULT_ARENA):
    """Outputs of each step of `steps` (input lists; None: `reset()`, TFLM's
    ResetVariableTensors) on one interpreter, which keeps variable tensors between invokes."""
    from tflite_micro import runtime  # lazy: tflite-micro is optional (fitml[tflm])

    interp = runtime.Interpreter.from_bytes(bytes(model), arena_size=arena_size)
    count = schema.Model.GetRootAs(bytes(model), 0).Subgraphs(0).OutputsLength()
    results = []
    for step in steps:
        if step is None:
            interp.reset()
            continue
        for i, value in enumerate(step):
            interp.set_input(np.ascontiguousarray(value), i)
        interp.invoke()
        results.append([np.array(interp.get_output(i)) for i in range(count)])
    return results
