"""Targets: Cortex-M cores and boards described by TOML files (target.py, read by loader.py);
the names the rest of fitml uses."""
from .loader import known_targets, load_target
from .target import KINDS, Region, Target, TargetError, parse_size

__all__ = ["KINDS", "Region", "Target", "TargetError", "known_targets", "load_target",
           "parse_size"]
