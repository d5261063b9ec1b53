"""Checks on the strings of a target file that reach a command line or a generated file.

A board file is user input: its `cflags` go to arm-none-eabi-gcc, its QEMU machine and CPU to
qemu-system-arm, its name into comments of the generated startup.c and link.ld. gcc has flags
that run programs (`-wrapper sh,-c,...`, `-fplugin=`, `-specs=`), QEMU options take
comma-separated sub-options, and a name with `*/` would end a C comment. So only the flags a
core needs are allowed, and every value is a plain word.
"""
from __future__ import annotations

import numbers
import re

WORD = re.compile(r"^[A-Za-z0-9_.+-]+$")
WORD_CHARS = "[A-Za-z0-9_.+-]"
_VALUE_FLAGS = ("-mcpu=", "-mfpu=", "-march=", "-mtune=")
_BARE_FLAGS = ("-mthumb", "-mlittle-endian", "-mno-unaligned-access")
_FLOAT_ABI = ("soft", "softfp", "hard")
_OPT_LEVELS = ("0", "1", "2", "3", "s", "z", "g", "fast")
_DEFINE = re.compile(r"^-D([A-Za-z_][A-Za-z0-9_]*)(=[A-Za-z0-9_.+-]*)?$")
ALLOWED_CFLAGS = ("-mcpu=X, -mfpu=X, -march=X, -mtune=X, -mfloat-abi=soft|softfp|hard, "
                  "-mthumb, -mlittle-endian, -mno-unaligned-access, -O0|1|2|3|s|z|g|fast, "
                  f"-DNAME[=X] (X made of {WORD_CHARS})")


def cflag_ok(flag: str) -> bool:
    """True for the flags a Cortex-M core needs (see ALLOWED_CFLAGS), with plain values."""
    if flag in _BARE_FLAGS:
        return True
    for prefix in _VALUE_FLAGS:
        if flag.startswith(prefix):
            return bool(WORD.match(flag[len(prefix):]))
    if flag.startswith("-mfloat-abi="):
        return flag[len("-mfloat-abi="):] in _FLOAT_ABI
    if flag.startswith("-O"):
        return flag[2:] in _OPT_LEVELS
    return bool(_DEFINE.match(flag))


def check_cflags(flags) -> tuple[str, ...]:
    """The flags as a tuple, or a ValueError naming the first one that is not allowed."""
    for flag in flags:
        if not isinstance(flag, str) or not cflag_ok(flag):
            raise ValueError(f"{flag!r} is not allowed (fitml passes only these to the "
                             f"compiler: {ALLOWED_CFLAGS})")
    return tuple(flags)


def check_word(value) -> str:
    """`value` if it is a plain word (letters, digits, `_ . + -`), else a ValueError."""
    if not isinstance(value, str) or not WORD.match(value):
        raise ValueError(f"{value!r} is not allowed (want a non-empty word of {WORD_CHARS})")
    return value


ADDRESS_SPACE = 1 << 32              # what a 32-bit Cortex-M core can address


class SizeRangeError(ValueError):
    """A well-formed size that is negative or beyond the 32-bit address space."""

_HEX = re.compile(r"^\s*0x([0-9a-f]+)\s*$", re.IGNORECASE)
_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]?)(?:i?B)?\s*$", re.IGNORECASE)


def size_bytes(value) -> int:
    """Bytes from an int or a string such as "256K", "1M", "512KiB", "0x4000"; a ValueError
    for anything else, a negative size or one beyond the 4 GiB a 32-bit core addresses."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        n = int(value)
    elif not isinstance(value, str):
        raise ValueError(f"bad size {value!r}")
    elif m := _HEX.match(value):
        n = int(m.group(1), 16)
    elif m := _SIZE.match(value):
        n = int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30}[m.group(2).upper()]
    else:
        raise ValueError(f"bad size {value!r} (want bytes, or a number with K, M or G)")
    if n < 0:
        raise SizeRangeError(f"{value!r} is negative")
    if n > ADDRESS_SPACE:
        raise SizeRangeError(f"{value!r} is more than 4 GiB, all a 32-bit Cortex-M core "
                             "addresses")
    return n
