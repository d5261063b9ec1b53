"""Errors users see: one clear line each, mapped to the CLI's exit codes."""
from __future__ import annotations


class FitmlError(Exception):
    """Base of every error fitml reports without a traceback."""

    exit_code = 2


class ModelError(FitmlError):
    """The model file is unreadable, malformed, or uses something fitml does not support."""


class NoKernel(ModelError, NotImplementedError):
    """An op in a form the C runtime has no kernel for: a user error naming the op (exit 2),
    still a NotImplementedError for callers that fall back to planning alone."""


class UsageError(FitmlError):
    """Bad command-line arguments or API arguments (shapes, sizes, names)."""


class ToolchainMissing(FitmlError):
    """A required external tool (cross compiler, QEMU) is not installed."""


class BuildError(FitmlError):
    """Compiling or linking failed; the first line says why (e.g. a region overflow)."""


class DoesNotFit(FitmlError):
    """The model does not fit the target's memory budget."""

    exit_code = 1


class NotEqual(FitmlError):
    """An executor's outputs differ from the reference."""

    exit_code = 1
