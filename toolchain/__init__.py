"""fitml: compile trained models for microcontrollers, proven bit-exact under QEMU.

    import toolchain
    graph = toolchain.load("model.tflite")
    outputs = toolchain.run(graph, [x], executor="reference").outputs

The package root only re-exports: load, run and inspect from `toolchain.api` (the whole Python
API, imported on first use, so the command line's fast paths do not pay for it), `__version__`
from toolchain/version.py.
"""
from .version import __version__

__all__ = ["__version__", "inspect", "load", "run"]


def __getattr__(name: str):
    if name in ("inspect", "load", "run"):
        from . import api   # lazy: numpy and every model reader
        return getattr(api, name)
    raise AttributeError(f"module 'toolchain' has no attribute {name!r}")
