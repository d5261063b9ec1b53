"""The `fitml` command line (console script `toolchain.cli:main`): entry.py parses and runs
the verbs (inspect, run), compile.py adds compile and verify, fit.py fit and check; common.py
holds the argument helpers they share."""
from .entry import build_parser, main

__all__ = ["build_parser", "main"]
