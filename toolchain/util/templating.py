"""Jinja environments over templates/, their compiled templates cached in fitml's cache folder.

Compiling the C and harness templates costs ~0.3-0.5 s per process; Jinja's bytecode cache
(keyed by each template's name and source checksum, written atomically) makes that a load.
"""
from __future__ import annotations

import jinja2

from ..resources import resource_dir
from .cache_dir import cache_dir


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    try:
        return jinja2.FileSystemBytecodeCache(str(cache_dir("templates")))
    except OSError:        # no writable cache folder: compile in memory, as Jinja does
        return None


def template_environment(**options) -> jinja2.Environment:
    """A strict (undefined names raise) environment over templates/; `options` go to Jinja."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              bytecode_cache=_bytecode_cache(), **options)
