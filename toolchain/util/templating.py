"""Jinja environments over templates/, their compiled templates cached.

Compiling the C and harness templates costs ~0.3-0.5 s per process; Jinja's bytecode cache
(keyed by each template's name and source checksum, written atomically) makes that a load.
setup.sh compiles them once beside the environment (PREBUILT_HOME/templates, verify/prebuild.py,
which `fitml cache clear` leaves); a template found neither there nor in fitml's cache folder is
compiled and kept in the cache folder.
"""
from __future__ import annotations

import jinja2

from ..resources import resource_dir
from .cache_dir import PREBUILT_HOME, cache_dir


class _TwoLevelCache(jinja2.FileSystemBytecodeCache):
    """Reads the prebuilt bytecode first, then (and writes) the cache folder's."""

    def __init__(self, directory: str, prebuilt: str):
        super().__init__(directory)
        self.prebuilt = jinja2.FileSystemBytecodeCache(prebuilt)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.prebuilt.load_bytecode(bucket)
        if bucket.code is None:
            super().load_bytecode(bucket)


def _bytecode_cache(folder: str, prebuilt: bool) -> jinja2.BytecodeCache | None:
    """The two-level cache of `folder` (of the cache folder, read first from PREBUILT_HOME),
    or with `prebuilt` the one of PREBUILT_HOME alone (setup's prebuild writes it)."""
    try:
        if prebuilt:
            return jinja2.FileSystemBytecodeCache(str(PREBUILT_HOME / folder))
        return _TwoLevelCache(str(cache_dir(folder)), str(PREBUILT_HOME / folder))
    except OSError:        # no writable cache folder: compile in memory, as Jinja does
        return None


def template_environment(folder: str = "templates", prebuilt: bool = False,
                         **options) -> jinja2.Environment:
    """A strict (undefined names raise) environment over templates/; `options` go to Jinja.
    Its compiled templates are kept in `folder` (one per set of options: Jinja's cache key
    is the template alone); `prebuilt`: in PREBUILT_HOME (setup's prebuild)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              bytecode_cache=_bytecode_cache(folder, prebuilt), **options)
