"""The model's flash by kind and the DSP layout trade, from the layout choices as dicts (one per
op that can carry a pre-widened DSP weight layout: its kind, bytes, estimated instructions
saved, kept or not). Used by the fit report (fit_report.py), `fitml compile`'s report and the
fit search's candidates."""
from __future__ import annotations

TABLE_KINDS = ("ADD", "SUB")     # their DSP arrays are tables among the parameters


def split_flash(code, constants: int, params: int, layers) -> dict:
    """The flash split: code, parameters, int8 weights (with biases) and the kept DSP arrays'
    extra bytes (`layers`: the dsp layout choices as dicts), each array once. ADD / SUB tables
    are parameter arrays: their bytes move from parameters to layouts."""
    kept = [x for x in layers if x["kept"]]
    tables = sum(x["bytes"] for x in kept if x["kind"] in TABLE_KINDS)
    layouts = sum(x["bytes"] for x in kept)
    return {"code": code, "params": params - tables,
            "int8_weights": constants - params - (layouts - tables), "layouts": layouts}


def layout_trade(layouts) -> dict:
    """The DSP layout trade: flash spent and instructions saved (estimated) by the layouts kept,
    and what the layers left on their int8 path would have cost and saved; per layer."""
    kept = [x for x in layouts if x["kept"]]
    plain = [x for x in layouts if not x["kept"]]
    return {"kept_bytes": sum(x["bytes"] for x in kept),
            "kept_insns_saved_est": sum(x["insns_saved_est"] for x in kept),
            "int8_path_bytes_saved": sum(x["bytes"] for x in plain),
            "int8_path_insns_lost_est": sum(x["insns_saved_est"] for x in plain),
            "layers": [dict(x) for x in layouts]}
