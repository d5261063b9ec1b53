"""What a generated `<prefix>_invoke` return value means: 0, or the failing op's number and its
kernel's fitml_status packed as `(op << 8) | status` (templates/model.h.j2, <PREFIX>_STATUS)."""
from __future__ import annotations

import re

STATUS_NAMES = {1: "FITML_ERR_ARGUMENT", 2: "FITML_ERR_UNSUPPORTED", 3: "FITML_ERR_SCRATCH"}


def describe_status(ret: int, model_c: str = "") -> str:
    """One line: which op failed (its kind, from the "op N: KIND" comment of the generated
    model.c when given) and the kernel's status."""
    op, status = ret >> 8, ret & 0xFF
    found = re.search(rf"/\* op {op}: (\w+)", model_c)
    kind = f" ({found.group(1)})" if found else ""
    return (f"op {op}{kind} failed with kernel status {status} "
            f"({STATUS_NAMES.get(status, 'unknown status')})")
