"""Targets: Cortex-M cores and boards described by TOML files (target.py); the names the rest
of fitml uses."""
from .target import KINDS, Region, Target, TargetError, known_targets, load_target, parse_size

__all__ = ["KINDS", "Region", "Target", "TargetError", "known_targets", "load_target",
           "parse_size"]
