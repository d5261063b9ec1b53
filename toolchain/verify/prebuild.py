"""Build the runtime's kernel objects for every core and flags the shipped targets use, into
verify/objects.PREBUILT, as a QEMU harness build compiles them; the C and harness templates
(Jinja bytecode) and the QEMU counting plugin (setup.sh runs this once; a build that finds them
there compiles none of the runtime and no template).

    python -m toolchain.verify.prebuild
"""
from __future__ import annotations

import argparse
import sys

from ..backends import cruntime
from ..resources import resource_dir
from ..targets import TargetError, load_target
from ..util.cache_dir import PREBUILT_HOME
from . import objects
from ..backends.clowered import template_env
from .elf import HARNESS_CFLAGS, compile_flags, tool
from .harness import harness_env
from .qemu_plugin import build_plugin, insn_count_plugin


def flag_sets() -> dict[tuple[tuple[str, ...], str], str]:
    """(compile flags, kernel variant) -> a target using them, over the shipped .toml files
    (phones have no Cortex-M build)."""
    out = {}
    for path in sorted(resource_dir("targets").rglob("*.toml")):
        try:
            target = load_target(str(path))
        except TargetError:
            continue
        if target.kind == "mobile":
            continue
        flags = tuple(compile_flags(target, "-O2", HARNESS_CFLAGS))
        out.setdefault((flags, target.kernel_variant), target.name)
    return out


def prebuild() -> tuple[int, int]:
    """(objects built, objects already there)."""
    gcc = tool("arm-none-eabi-gcc")
    jobs = []
    for flags, variant in flag_sets():
        for source in cruntime.runtime_sources(None, variant=variant):
            cmd, src, cached = objects.runtime_job([gcc], flags, source)
            jobs.append((cmd, src, objects.PREBUILT / cached.name))
    missing = [j for j in jobs if not j[2].is_file()]
    objects.run_jobs(missing)
    for folder in ("templates", "templates-harness"):
        (PREBUILT_HOME / folder).mkdir(parents=True, exist_ok=True)
    for env, prefix in ((template_env(prebuilt=True), ""),
                        (harness_env(prebuilt=True), "harness/")):       # compiled once
        for name in env.list_templates(extensions=["j2"]):
            if name.startswith(prefix):
                env.get_template(name)
    plugin = insn_count_plugin()
    if plugin.parent != PREBUILT_HOME:
        build_plugin(PREBUILT_HOME / plugin.name)
    return len(missing), len(jobs) - len(missing)


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    built, kept = prebuild()
    print(f"prebuild: {built} runtime objects built, {kept} already there, in {objects.PREBUILT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
