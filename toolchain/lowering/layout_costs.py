"""What a pre-widened DSP/MVE weight layout buys: instructions per MAC saved, per kernel and core.

The table (layout_costs.json, beside this module) is measurement, not opinion: it is written by
`benchmarks/layout_costs.py`, which profiles the shared int8 models under QEMU twice per core
(every layout kept, every layout left out) and divides each kernel family's instructions by its
MACs. Rerun it when a kernel changes. A layer's estimated gain is its MACs times the difference
(int8 path minus layout path) for its family on the core; the layout choice (backends/
clayouts.py) keeps the layouts with the most gain per byte of flash.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).with_name("layout_costs.json")
SCHEMA = "fitml.layout_costs/1"
# the core whose figures stand in when a core is not in the table, per kernel variant
STAND_IN = {"dsp": "cortex-m4", "mve": "cortex-m55"}


def family(kind: str, params) -> str | None:
    """The kernel family of an op that can carry a layout: conv_1x1, conv, depthwise_conv,
    fully_connected, lstm (None for others)."""
    if kind == "CONV_2D":
        f = params.get("geom", {}).get("filter", {}) if isinstance(params, dict) else {}
        return "conv_1x1" if f.get("h") == f.get("w") == 1 else "conv"
    return {"DEPTHWISE_CONV_2D": "depthwise_conv", "FULLY_CONNECTED": "fully_connected",
            "UNIDIRECTIONAL_SEQUENCE_LSTM": "lstm"}.get(kind)


@lru_cache(maxsize=4)
def load_table(path: Path = TABLE) -> dict:
    """The measured table: {core: {family: {"int8": insn/MAC, "layout": insn/MAC, ...}}}."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    if data.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema {data.get('schema')!r}, want {SCHEMA!r}")
    return data.get("cores", {})


def saving_per_mac(fam: str | None, core: str | None, variant: str = "dsp",
                   table: dict | None = None) -> float:
    """Instructions per MAC the layout saves for the family on the core (the variant's
    stand-in core, then any core that measured the family, when the core has no entry); 0 when
    nothing was measured."""
    table = load_table() if table is None else table
    if fam is None:
        return 0.0
    for name in (core, STAND_IN.get(variant), *sorted(table)):
        row = table.get(name, {}).get(fam) if name else None
        if row is not None:
            return max(0.0, float(row["int8"]) - float(row["layout"]))
    return 0.0


# An int8 ADD / SUB's table (cdsp.addsub_lut) saves instructions per output element, not per
# MAC: about 70 per element on Cortex-M4 (QEMU counts of three builds of tests/test_gru.py's
# int8 GRU, 241 ADD / SUB of 32 elements, differing in the tables and FC layouts they keep).
ADDSUB_LUT_SAVING = 70.0


def insns_saved(kind: str, params, macs: int, core: str | None, variant: str = "dsp",
                table: dict | None = None, elements: int = 0) -> int:
    """Estimated instructions per inference a layer's layout saves: MACs x the family's
    insn/MAC difference on the core; for an ADD / SUB table, its output `elements` x
    ADDSUB_LUT_SAVING."""
    if kind in ("ADD", "SUB"):
        return round(elements * ADDSUB_LUT_SAVING)
    return round(macs * saving_per_mac(family(kind, params), core, variant, table))
