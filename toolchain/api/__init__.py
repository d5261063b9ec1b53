"""The Python API; every CLI verb is a thin layer over a function here.

core.py loads, runs, inspects and quantizes models; checking.py verifies, checks and reports,
compiling.py compiles (compiler.py writes the C project or .tflite; firmware.py several
models sharing one runtime), fitting.py searches for a compressed model that fits (`fitml fit`),
latency.py estimates one inference's milliseconds. `toolchain.api.<name>` is the one place to
call.
"""
from .checking import check, report, target_with, verify
from .compiling import compile
from .core import LOADERS, activation_peak_naive, inspect, load, quantize, read_inputs, run
from .firmware import compile_models
from .fitting import fit_model
from .latency import estimated_ms
from .matrix import check_matrix

__all__ = ["LOADERS", "activation_peak_naive", "check", "check_matrix", "compile",
           "compile_models", "estimated_ms", "fit_model", "inspect", "load", "quantize",
           "read_inputs", "report", "run", "target_with", "verify"]
