"""Table kernels: an int8 op whose output depends on the input code alone is a 256-entry
table, computed at compile time by running the op's own numpy reference (the spec, bit-exact
with TFLite Micro) on every code with the node's quantization and attributes. The C kernel
`fitml_lut_s8` then costs one lookup per element instead of the op's fixed-point arithmetic.

When the table pays: it costs 256 bytes of flash (shared by every node with the same table)
and saves the per-element arithmetic. `MIN_ELEMENTS` is the rule: LOGISTIC, TANH, RSQRT and ELU
(hundreds of instructions per element on Cortex-M) always take it; HARD_SWISH and LEAKY_RELU
(tens) take it when the node maps at least 256 elements, i.e. when the table is no larger
than the tensor; below that their own kernels run. The tables buy speed with flash, so like
the DSP weight layouts they must never cost the fit: the C backend gives up the ones saving the
fewest instructions per byte when the constants would not fit the flash
(backends/clayouts.py, through `lowering.cvariant.plain_layouts`).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ..lowering import cparams
from ..lowering.ccall import CArray, CCall
from ..lowering.cvariant import current_plain
from . import common
from .registry import Node, get, own_method, variant

LUT_INT8 = (("int8", "none"),)          # the dtype pair of a one-input int8 op
MIN_ELEMENTS = {"LOGISTIC": 1, "TANH": 1, "RSQRT": 1, "ELU": 1, "HARD_SWISH": 256,
                "LEAKY_RELU": 256}
# instructions per element of the op's own int8 kernel and of the table (Cortex-M4, -O2,
# benchmarks/lut_speed.py); RSQRT and ELU have no kernel but the table
OWN_INSNS = {"LOGISTIC": 269, "TANH": 273, "HARD_SWISH": 90, "LEAKY_RELU": 40}
LUT_INSNS = 5
CODES = np.arange(-128, 128, dtype=np.int8)
_TABLES: dict[tuple, CArray] = {}       # one CArray per distinct table: emitted once per model
_MAX_CACHED = 4096


def table_pays(node: Node) -> bool:
    """The rule above: the node's element count reaches its op's MIN_ELEMENTS, and the C
    backend did not give its table up for flash (`plain_layouts`; RSQRT, ELU always keep it)."""
    kind = node.op.kind
    return node.ins[0].size >= MIN_ELEMENTS[kind] and (
        kind not in OWN_INSNS or node.outs[0].name not in current_plain())


def droppable(call: CCall, kind: str) -> bool:
    """A table call the op could run without (its own kernel): a flash-for-speed candidate."""
    return call.kernel == "fitml_lut_s8" and kind in OWN_INSNS


def insns_saved(node: Node) -> int:
    """Estimated instructions per inference the node's table saves over the op's kernel."""
    return (OWN_INSNS[node.op.kind] - LUT_INSNS) * node.ins[0].size


def table(node: Node) -> np.ndarray:
    """int8[256]: the op's reference output for input codes -128..127 (index q + 128)."""
    x, y = node.ins[0], node.outs[0]
    codes_node = Node(node.op, (dataclasses.replace(x, shape=(256,)),) + tuple(node.ins[1:]),
                      (dataclasses.replace(y, shape=(256,)),))
    (out,) = get(node.op.kind).reference(codes_node, [CODES] + [None] * (len(node.ins) - 1))
    return np.asarray(out, np.int8).reshape(256)


def table_array(node: Node) -> CArray:
    """The node's table as a CArray, the same object for nodes with the same table (the C
    backend names arrays by identity, so the model carries each distinct table once)."""
    (s_in, zp_in), (s_out, zp_out) = common.qparams(node.ins[0]), common.qparams(node.outs[0])
    key = (node.op.kind, repr(sorted(node.op.attrs.items())), float(s_in), int(zp_in),
           float(s_out), int(zp_out))
    if key not in _TABLES:
        if len(_TABLES) >= _MAX_CACHED:
            _TABLES.clear()
        _TABLES[key] = CArray(table(node), "int8_t")
    return _TABLES[key]


def lut_call(node: Node) -> CCall:
    """fitml_lut_s8 over the node's table (in place when the input dies here)."""
    call = CCall("fitml_lut_s8", "fitml_lut_s8_params",
                 dict(size=node.ins[0].size, lut=table_array(node)), cparams.io(node))
    return cparams.in_place(call, node)


def _lower(kind: str):
    def lower(node: Node) -> CCall:
        return lut_call(node) if table_pays(node) else own_method(kind, "lower_c")(node)
    lower.__doc__ = f"int8 {kind}: fitml_lut_s8 where the table pays, else the op's kernel."
    lower.__name__ = f"{kind.lower()}_lut"
    return lower


for _kind in MIN_ELEMENTS:
    variant(_kind, LUT_INT8, "lower_c")(_lower(_kind))
