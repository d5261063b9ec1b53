"""The fitml C runtime (runtime_c/): where its sources are, its struct ABI, and host builds.

`STRUCTS` mirrors the parameter structs of runtime_c/include/fitml/ (fitml_types.h,
fitml_hybrid.h, fitml_int4.h, fitml_int16.h) field by field (a test compiles the headers and
compares every offset), so Python can fill them through ctypes and check the field names an op's
`lower_c` produces.
"""
from __future__ import annotations

import ctypes
import re
import subprocess
from pathlib import Path
from typing import Callable, Iterable, Mapping

import numpy as np

from ..resources import resource_dir
from ..lowering.ccall import MAX_DIMS, CArray, TensorRef

VARIANTS = ("portable", "dsp", "mve")
C99_WARNINGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-Wshadow",
                "-Wstrict-prototypes", "-Wmissing-prototypes", "-Wdouble-promotion")

_DIMS = [("n", "int32_t"), ("h", "int32_t"), ("w", "int32_t"), ("c", "int32_t")]
_I32 = "int32_t"
_REQ = [("requant", "fitml_requant")]
_ACT_I = [("act_min", _I32), ("act_max", _I32)]
_ACT_F = [("act_min", "float"), ("act_max", "float")]
_ND = f"int32_t[{MAX_DIMS}]"
_FAST = [("fast_requant", "const int32_t *")]     # DSP-only extras (portable ignores them)
_DSP_W = [("filter_dsp", "const int16_t *")]

STRUCTS: dict[str, list[tuple[str, str]]] = {
    "fitml_dims": _DIMS,
    "fitml_conv_geom": [("input", "fitml_dims"), ("filter", "fitml_dims"),
                        ("output", "fitml_dims"), ("stride_h", _I32), ("stride_w", _I32),
                        ("dilation_h", _I32), ("dilation_w", _I32), ("pad_h", _I32),
                        ("pad_w", _I32)],
    "fitml_requant": [("multiplier", "const int32_t *"), ("shift", "const int32_t *"),
                      ("per_channel", _I32)],
    "fitml_conv_s8_params": [("geom", "fitml_conv_geom"), ("filter", "const int8_t *"),
                             ("bias", "const int32_t *")] + _REQ
    + [("input_zp", _I32), ("output_zp", _I32)] + _ACT_I + _FAST + _DSP_W,
    "fitml_depthwise_conv_s8_params": [("geom", "fitml_conv_geom"), ("depth_multiplier", _I32),
                                       ("filter", "const int8_t *"),
                                       ("bias", "const int32_t *")] + _REQ
    + [("input_zp", _I32), ("output_zp", _I32)] + _ACT_I + _DSP_W,
    "fitml_conv_f32_params": [("geom", "fitml_conv_geom"), ("filter", "const float *"),
                              ("bias", "const float *")] + _ACT_F,
    "fitml_depthwise_conv_f32_params": [("geom", "fitml_conv_geom"), ("depth_multiplier", _I32),
                                        ("filter", "const float *"),
                                        ("bias", "const float *")] + _ACT_F,
    "fitml_fully_connected_s8_params": [("batches", _I32), ("input_size", _I32),
                                        ("output_size", _I32), ("filter", "const int8_t *"),
                                        ("bias", "const int32_t *")] + _REQ
    + [("output_zp", _I32)] + _ACT_I + _DSP_W,
    "fitml_fully_connected_f32_params": [("batches", _I32), ("input_size", _I32),
                                         ("output_size", _I32), ("filter", "const float *"),
                                         ("bias", "const float *")] + _ACT_F,
    "fitml_pool_geom": [("input", "fitml_dims"), ("output", "fitml_dims"), ("filter_h", _I32),
                        ("filter_w", _I32), ("stride_h", _I32), ("stride_w", _I32),
                        ("pad_h", _I32), ("pad_w", _I32)],
    "fitml_pool_s8_params": [("geom", "fitml_pool_geom")] + _ACT_I,
    "fitml_pool_f32_params": [("geom", "fitml_pool_geom")] + _ACT_F,
    "fitml_broadcast": [("rank", _I32), ("dims", _ND), ("strides1", _ND), ("strides2", _ND)],
    "fitml_add_s8_params": [("bc", "fitml_broadcast"), ("input1_zp", _I32),
                            ("input2_zp", _I32), ("output_zp", _I32), ("left_shift", _I32),
                            ("input1_multiplier", _I32), ("input1_shift", _I32),
                            ("input2_multiplier", _I32), ("input2_shift", _I32),
                            ("output_multiplier", _I32), ("output_shift", _I32)] + _ACT_I
    + [("lut", "const int32_t *")],
    "fitml_mul_s8_params": [("bc", "fitml_broadcast"), ("input1_zp", _I32),
                            ("input2_zp", _I32), ("output_zp", _I32),
                            ("output_multiplier", _I32), ("output_shift", _I32)] + _ACT_I,
    "fitml_binary_f32_params": [("bc", "fitml_broadcast")] + _ACT_F,
    "fitml_softmax_s8_params": [("rows", _I32), ("depth", _I32), ("input_multiplier", _I32),
                                ("input_left_shift", _I32), ("diff_min", _I32)],
    "fitml_softmax_f32_params": [("rows", _I32), ("depth", _I32), ("beta", "float")],
    "fitml_logistic_s8_params": [("size", _I32), ("input_zp", _I32),
                                 ("input_multiplier", _I32), ("input_shift", _I32),
                                 ("input_range_radius", _I32)],
    "fitml_size_params": [("size", _I32)],
    "fitml_hard_swish_s8_params": [("size", _I32), ("input_zp", _I32), ("output_zp", _I32),
                                   ("output_multiplier", _I32), ("output_shift", _I32),
                                   ("reluish_multiplier", _I32), ("reluish_shift", _I32)],
    "fitml_leaky_relu_s8_params": [("size", _I32), ("input_zp", _I32), ("output_zp", _I32),
                                   ("identity_multiplier", _I32), ("identity_shift", _I32),
                                   ("alpha_multiplier", _I32), ("alpha_shift", _I32)],
    "fitml_leaky_relu_f32_params": [("size", _I32), ("alpha", "float")],
    "fitml_affine_params": [("size", _I32), ("scale", "float"), ("zero_point", _I32)],
    "fitml_requantize_s8_params": [("size", _I32), ("input_zp", _I32), ("output_zp", _I32),
                                   ("multiplier", _I32), ("shift", _I32)] + _ACT_I,
    "fitml_clamp_s8_params": [("size", _I32)] + _ACT_I,
    "fitml_clamp_f32_params": [("size", _I32)] + _ACT_F,
    "fitml_walk": [("rank", _I32), ("dims", _ND), ("strides", _ND)],
    "fitml_mean_s8_params": [("outer", "fitml_walk"), ("inner", "fitml_walk"),
                             ("count", _I32), ("input_zp", _I32), ("output_zp", _I32),
                             ("multiplier", _I32), ("shift", _I32)],
    "fitml_mean_f32_params": [("outer", "fitml_walk"), ("inner", "fitml_walk"),
                              ("count", _I32)],
    "fitml_pad_params": [("rank", _I32), ("in_dims", _ND), ("out_dims", _ND),
                         ("pad_before", _ND), ("elem_size", _I32), ("pad_value", "uint8_t[8]")],
    "fitml_concat_params": [("num_inputs", _I32), ("outer", _I32),
                            ("chunk_bytes", "const int32_t *")],
    "fitml_gather_params": [("walk", "fitml_walk"), ("offset", _I32), ("elem_size", _I32)],
    "fitml_conv_hybrid_f32_params": [("geom", "fitml_conv_geom"), ("filter", "const int8_t *"),
                                     ("scales", "const float *"), ("bias", "const float *"),
                                     ("per_channel", _I32)] + _ACT_F,
    "fitml_depthwise_conv_hybrid_f32_params": [("geom", "fitml_conv_geom"),
                                               ("depth_multiplier", _I32),
                                               ("filter", "const int8_t *"),
                                               ("scales", "const float *"),
                                               ("bias", "const float *")] + _ACT_F,
    "fitml_fully_connected_hybrid_f32_params": [("batches", _I32), ("input_size", _I32),
                                                ("output_size", _I32),
                                                ("filter", "const int8_t *"),
                                                ("scales", "const float *"),
                                                ("bias", "const float *"), ("per_channel", _I32),
                                                ("asymmetric", _I32)] + _ACT_F,
}
# int8 activations x packed int4 weights (fitml_int4.h): the int8 structs with a uint8 filter
_S4_OUT = [("bias", "const int32_t *")] + _REQ
STRUCTS.update({
    "fitml_conv_s8s4_params": [("geom", "fitml_conv_geom"), ("filter", "const uint8_t *")]
    + _S4_OUT + [("input_zp", _I32), ("output_zp", _I32)] + _ACT_I,
    "fitml_depthwise_conv_s8s4_params": [("geom", "fitml_conv_geom"), ("depth_multiplier", _I32),
                                         ("filter", "const uint8_t *")]
    + _S4_OUT + [("input_zp", _I32), ("output_zp", _I32)] + _ACT_I,
    "fitml_fully_connected_s8s4_params": [("batches", _I32), ("input_size", _I32),
                                          ("output_size", _I32), ("filter", "const uint8_t *")]
    + _S4_OUT + [("output_zp", _I32)] + _ACT_I,
})
# int16 activations x int8 weights (fitml_int16.h): int64 bias, no zero points
_S16_OUT = [("bias", "const int64_t *")] + _REQ + [("acc32", _I32)] + _ACT_I
STRUCTS.update({
    "fitml_conv_s16_params": [("geom", "fitml_conv_geom"), ("filter", "const int8_t *")]
    + _S16_OUT,
    "fitml_depthwise_conv_s16_params": [("geom", "fitml_conv_geom"), ("depth_multiplier", _I32),
                                        ("filter", "const int8_t *")] + _S16_OUT,
    "fitml_fully_connected_s16_params": [("batches", _I32), ("input_size", _I32),
                                         ("output_size", _I32), ("filter", "const int8_t *")]
    + _S16_OUT,
})
# int16 LOGISTIC / TANH / SOFTMAX (fitml_int16.h): constant tables from ops/int16_nonlinear.py
STRUCTS.update({
    "fitml_logistic_s16_params": [("size", _I32), ("input_multiplier", _I32),
                                  ("input_left_shift", _I32), ("table", "const int16_t *")],
    "fitml_softmax_s16_params": [("rows", _I32), ("depth", _I32), ("input_multiplier", _I32),
                                 ("input_left_shift", _I32), ("exp_lut", "const int16_t *"),
                                 ("recip_lut", "const int16_t *")],
})
# CONV_2D fused with its residual ADD (fitml_conv.h, backends/c.py fuse_residual_adds)
STRUCTS["fitml_conv_add_s8_params"] = [("conv", "fitml_conv_s8_params"),
                                       ("add", "fitml_add_s8_params"), ("residual_first", _I32)]
# UNIDIRECTIONAL_SEQUENCE_LSTM (fitml_lstm.h, ops/lstm_lowering.py)
_LSTM = [("batches", _I32), ("time_steps", _I32), ("input_size", _I32), ("units", _I32),
         ("time_major", _I32)]
STRUCTS["fitml_lstm_s8_params"] = _LSTM + [
    ("input_weights", "const int8_t *"), ("recurrent_weights", "const int8_t *"),
    ("input_bias", "const int32_t *"), ("recurrent_bias", "const int32_t *"),
    ("input_multiplier", "int32_t[4]"), ("input_shift", "int32_t[4]"),
    ("recurrent_multiplier", "int32_t[4]"), ("recurrent_shift", "int32_t[4]"),
    ("forget_multiplier", _I32), ("forget_shift", _I32), ("update_multiplier", _I32),
    ("update_shift", _I32), ("hidden_multiplier", _I32), ("hidden_shift", _I32),
    ("hidden_zp", _I32), ("cell_clip", _I32), ("cell_tanh_multiplier", _I32),
    ("cell_tanh_shift", _I32), ("dsp_fast", _I32), ("sigmoid_table", "const int16_t *")] + _DSP_W
STRUCTS["fitml_lstm_f32_params"] = _LSTM + [
    ("input_weights", "const float *"), ("recurrent_weights", "const float *"),
    ("bias", "const float *"), ("cell_clip", "float")]
ALIASES = {"fitml_tanh_s8_params": "fitml_logistic_s8_params",
           "fitml_transpose_params": "fitml_gather_params",
           "fitml_strided_slice_params": "fitml_gather_params"}


def runtime_dir() -> Path:
    return resource_dir("runtime_c")


def include_dir() -> Path:
    """The directory to pass as -I; sources include "fitml/fitml.h"."""
    return runtime_dir() / "include"


def kernel_files() -> dict[str, Path]:
    """Kernel name (file stem, e.g. "fitml_conv_s8") -> its portable source."""
    return {p.stem: p for p in sorted((runtime_dir() / "src" / "portable").glob("fitml_*.c"))}


def runtime_sources(kernels: Iterable[str] | None = None, variant: str = "portable") -> list[Path]:
    """The .c files to compile: every kernel, or only those named (one file per kernel).

    A `variant` ("dsp", "mve") takes src/<variant>/<kernel>.c where it exists, else the
    portable file, so a build links exactly one definition of each kernel.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown runtime variant {variant!r} (known: {', '.join(VARIANTS)})")
    files = kernel_files()
    names = sorted(files) if kernels is None else sorted(set(kernels))
    unknown = [k for k in names if k not in files]
    if unknown:
        raise ValueError(f"no runtime source for kernel(s) {', '.join(unknown)}")
    special = runtime_dir() / "src" / variant
    return [special / f"{k}.c" if (special / f"{k}.c").is_file() else files[k] for k in names]


def build_host_library(out_dir: str | Path, kernels: Iterable[str] | None = None,
                       sanitize: bool = True, extra_sources: Iterable[str | Path] = (),
                       cflags: Iterable[str] = (), name: str = "libfitml_runtime.so") -> Path:
    """Compile the runtime into a host shared library with gcc (UBSan by default).

    UBSan aborts on the first finding (-fno-sanitize-recover), so undefined behaviour fails a
    test instead of scrolling by. Raises RuntimeError with gcc's output on failure.
    """
    out = Path(out_dir) / name
    out.parent.mkdir(parents=True, exist_ok=True)
    flags = [*C99_WARNINGS, "-O1", "-g", "-fPIC", "-shared"]
    if sanitize:
        flags += ["-fsanitize=undefined", "-fno-sanitize-recover=all"]
    cmd = (["gcc", *flags, *cflags, f"-I{include_dir()}"]
           + [str(s) for s in runtime_sources(kernels)] + [str(s) for s in extra_sources]
           + ["-o", str(out), "-lm"])
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"runtime build failed: {' '.join(cmd)}\n{result.stderr}")
    return out


# ---- ctypes mirror of the parameter structs -------------------------------------------------

_SCALARS = {"int32_t": ctypes.c_int32, "float": ctypes.c_float, "uint8_t": ctypes.c_uint8}
_CLASSES: dict[str, type[ctypes.Structure]] = {}


def struct_fields(struct: str) -> list[tuple[str, str]]:
    """(field, C type) pairs of a parameter struct (typedef aliases resolved)."""
    return STRUCTS[ALIASES.get(struct, struct)]


def _ctype(decl: str):
    if decl.endswith("*"):
        return ctypes.c_void_p
    array = re.fullmatch(r"(\w+)\[(\d+)\]", decl)
    if array:
        return _SCALARS[array.group(1)] * int(array.group(2))
    return _SCALARS[decl] if decl in _SCALARS else ctypes_struct(decl)


def ctypes_struct(struct: str) -> type[ctypes.Structure]:
    """The ctypes.Structure class with the C layout of `struct`."""
    struct = ALIASES.get(struct, struct)
    if struct not in _CLASSES:
        fields = [(name, _ctype(decl)) for name, decl in STRUCTS[struct]]
        _CLASSES[struct] = type(struct, (ctypes.Structure,), {"_fields_": fields})
    return _CLASSES[struct]


def to_ctypes(struct: str, values: Mapping, resolve: Callable[[str], np.ndarray]):
    """(ctypes struct, keep-alive list) from a lowering's params dict.

    Pointer fields take a CArray, a TensorRef (resolved to an array by `resolve`), an ndarray,
    or None / "NULL"; nested structs take dicts; fixed arrays take sequences (zero-padded).
    Every field must be given, and no unknown field may be: this checks the names too.
    """
    keep: list = []
    obj = ctypes_struct(struct)()
    fields = dict(struct_fields(struct))
    extra = set(values) - set(fields)
    missing = set(fields) - set(values)
    if extra or missing:
        raise KeyError(f"{struct}: unknown fields {sorted(extra)}, missing {sorted(missing)}")
    for name, decl in fields.items():
        value = values[name]
        if decl.endswith("*"):
            if isinstance(value, CArray):
                value = value.values
            elif isinstance(value, TensorRef):
                value = resolve(value.name)
            if value is None or (isinstance(value, str) and value == "NULL"):
                setattr(obj, name, None)
                continue
            arr = np.ascontiguousarray(value)
            keep.append(arr)
            setattr(obj, name, arr.ctypes.data)
        elif isinstance(value, Mapping):
            sub, sub_keep = to_ctypes(decl, value, resolve)
            keep += sub_keep
            setattr(obj, name, sub)
        elif "[" in decl:
            target = getattr(obj, name)
            if len(value) > len(target):
                raise ValueError(f"{struct}.{name}: {len(value)} values for {len(target)}")
            for i, v in enumerate(value):
                target[i] = v
        else:
            setattr(obj, name, float(value) if decl == "float" else int(value))
    return obj, keep
