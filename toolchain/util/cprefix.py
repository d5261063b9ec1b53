"""The `--prefix` rule: what may start every C symbol and file name of a generated project."""
from __future__ import annotations

import re

from ..errors import UsageError

_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto "
    "if inline int long register restrict return short signed sizeof static struct switch "
    "typedef union unsigned void volatile while alignas alignof bool constexpr false "
    "nullptr static_assert thread_local true typeof typeof_unqual asm".split())
PREFIX_MAX = 32


def check_prefix(prefix) -> str:
    """`prefix` if it can start every C symbol and file name of a project, else UsageError:
    a C identifier of at most PREFIX_MAX characters, not a keyword, not fitml's own (the
    runtime's FITML_H guard and fitml_* symbols) nor the C implementation's (__x, _X)."""
    shown = repr(prefix if len(str(prefix)) <= 40 else str(prefix)[:40] + "...")
    rule = ("a C identifier prefix: a letter or _, then letters, digits or _, at most "
            f"{PREFIX_MAX} characters (e.g. model, kws_v2)")
    if not isinstance(prefix, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", prefix):
        raise UsageError(f"--prefix {shown}: not {rule}")
    if len(prefix) > PREFIX_MAX:
        raise UsageError(f"--prefix {shown}: {len(prefix)} characters; use {rule}")
    if prefix.lower().startswith("fitml"):
        raise UsageError(f"--prefix {shown}: fitml* names belong to the fitml runtime; choose "
                         "another prefix")
    if prefix.startswith("__") or re.match(r"_[A-Z]", prefix):
        raise UsageError(f"--prefix {shown}: names starting with __ or _ and a capital are "
                         "reserved by C; choose another prefix")
    if prefix in _C_KEYWORDS:
        raise UsageError(f"--prefix {shown}: is a C keyword; choose another prefix")
    return prefix
