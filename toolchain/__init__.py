"""fitml: compile trained models for microcontrollers, proven bit-exact under QEMU.

    import toolchain
    graph = toolchain.load("model.tflite")
    outputs = toolchain.run(graph, [x], executor="reference").outputs
"""
__version__ = "0.1.0"


def load(source, example_inputs=None):
    """Load a model file (or torch module with example inputs) into a fitml Graph."""
    from .api import load as _load
    return _load(source, example_inputs)


def run(model, inputs, executor: str = "reference", **options):
    """Run one inference with an executor: reference, tflm, litert, host, qemu."""
    from .api import run as _run
    return _run(model, inputs, executor=executor, **options)


def inspect(model):
    from .api import inspect as _inspect
    return _inspect(model)
