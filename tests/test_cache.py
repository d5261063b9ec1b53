"""fitml's cache folder: location from FITML_CACHE, least-recently-used pruning to
FITML_CACHE_MAX (never what was used in the last minutes), `fitml cache` and `cache clear`."""
from __future__ import annotations

import json
import os
import time

from cli_util import fitml
from conftest import shared_model
from toolchain.util.cache_dir import RECENT_S, entries, prune

HELLO = shared_model("tflm/hello_world_int8.tflite")


def _entry(root, name: str, size: int, age_s: float):
    path = root / name
    path.mkdir(parents=True)
    (path / "model.elf").write_bytes(b"\0" * size)
    used = time.time() - age_s
    os.utime(path, (used, used))
    return path


def test_prune_removes_least_recently_used_first_down_to_the_limit(tmp_path):
    old = _entry(tmp_path, "a", 1000, 3 * RECENT_S)
    mid = _entry(tmp_path, "b", 1000, 2 * RECENT_S)
    new = _entry(tmp_path, "c", 1000, 1.5 * RECENT_S)
    assert prune(tmp_path, 2000) == (1, 1000)
    assert [old.exists(), mid.exists(), new.exists()] == [False, True, True]


def test_prune_keeps_entries_used_recently_whatever_the_size(tmp_path):
    recent = [_entry(tmp_path, n, 5000, RECENT_S / 10) for n in "xyz"]
    assert prune(tmp_path, 100) == (0, 0)
    assert all(p.exists() for p in recent)
    assert sum(size for _, size, _ in entries(tmp_path)) == 15000


def test_cache_verb_reports_and_clears_what_a_run_cached(tmp_path):
    env = {"FITML_CACHE": str(tmp_path / "cache")}
    run = fitml("check", HELLO, "--target", "cortex-m4", env=env)
    assert run.returncode == 0, run.stderr
    info = json.loads(fitml("cache", "--json", env=env).stdout)
    assert info["path"] == env["FITML_CACHE"]
    assert info["build_entries"] >= 1 and info["build_bytes"] > 0, info
    cleared = fitml("cache", "clear", env=env)
    assert cleared.returncode == 0 and "removed" in cleared.stdout, cleared
    after = json.loads(fitml("cache", "--json", env=env).stdout)
    assert after["build_entries"] == 0 and after["build_bytes"] == 0, after


def test_compiled_templates_are_cached_beside_the_builds(tmp_path):
    env = {"FITML_CACHE": str(tmp_path / "cache")}
    out = tmp_path / "c"
    proc = fitml("compile", HELLO, "-o", out, env=env)
    assert proc.returncode == 0, proc.stderr
    assert list((tmp_path / "cache" / "templates").glob("__jinja2_*.cache"))
