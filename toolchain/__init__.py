"""fitml: compile trained models for microcontrollers, proven bit-exact under QEMU.

    import toolchain
    graph = toolchain.load("model.tflite")
    outputs = toolchain.run(graph, [x], executor="reference").outputs

The package root only re-exports: load, run and inspect from `toolchain.api` (the whole Python
API), `__version__` from toolchain/version.py.
"""
from .api import inspect, load, run
from .version import __version__

__all__ = ["__version__", "inspect", "load", "run"]
