"""fitml's cache folder: location from FITML_CACHE, least-recently-used pruning to
FITML_CACHE_MAX (never what was used in the last minutes), `fitml cache` and `cache clear`;
only a folder fitml owns is pruned, and only the entries fitml names."""
from __future__ import annotations

import json
import os
import time

from cli_util import fitml
from conftest import shared_model
from toolchain.util.cache_dir import MARKER, RECENT_S, entries, prune

HELLO = shared_model("tflm/hello_world_int8.tflite")


def _builds(tmp_path, marked: bool = True):
    """A cache root under tmp_path (marked as fitml's, or not) and its builds folder."""
    (tmp_path / "builds").mkdir()
    if marked:
        (tmp_path / MARKER).write_text("")
    return tmp_path / "builds"


def _entry(root, name: str, size: int, age_s: float):
    name = name * 24 if len(name) == 1 else name     # fitml's entries are hash-named
    path = root / name
    path.mkdir(parents=True)
    (path / "model.elf").write_bytes(b"\0" * size)
    used = time.time() - age_s
    os.utime(path, (used, used))
    return path


def test_prune_removes_least_recently_used_first_down_to_the_limit(tmp_path):
    tmp_path = _builds(tmp_path)
    old = _entry(tmp_path, "a", 1000, 3 * RECENT_S)
    mid = _entry(tmp_path, "b", 1000, 2 * RECENT_S)
    new = _entry(tmp_path, "c", 1000, 1.5 * RECENT_S)
    assert prune(tmp_path, 2000) == (1, 1000)
    assert [old.exists(), mid.exists(), new.exists()] == [False, True, True]


def test_prune_keeps_entries_used_recently_whatever_the_size(tmp_path):
    tmp_path = _builds(tmp_path)
    recent = [_entry(tmp_path, n, 5000, RECENT_S / 10) for n in "abc"]
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


def test_compiled_templates_are_cached_beside_the_builds(tmp_path, monkeypatch):
    """Without setup's prebuilt templates they are compiled once into the cache folder; with
    them (verify/prebuild.py), they are read from there and nothing is compiled."""
    import toolchain.util.templating as templating
    monkeypatch.setenv("FITML_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(templating, "PREBUILT_HOME", tmp_path / "prebuilt")
    templating.template_environment().get_template("harness/link.ld.j2")
    assert list((tmp_path / "cache" / "templates").glob("__jinja2_*.cache"))
    (tmp_path / "prebuilt" / "templates").mkdir(parents=True)
    templating.template_environment(prebuilt=True).get_template("harness/link.ld.j2")
    monkeypatch.setenv("FITML_CACHE", str(tmp_path / "cache2"))
    env = templating.template_environment()
    env.compile = None                                   # a compile would fail
    env.get_template("harness/link.ld.j2")
    assert not list((tmp_path / "cache2" / "templates").glob("__jinja2_*.cache"))


def test_prune_never_touches_a_folder_fitml_does_not_own(tmp_path):
    builds = _builds(tmp_path, marked=False)
    theirs = _entry(builds, "a", 1000, 3 * RECENT_S)
    assert prune(builds, 0) == (0, 0)
    assert theirs.exists()


def test_prune_and_clear_skip_entries_fitml_did_not_name(tmp_path):
    builds = _builds(tmp_path)
    mine = _entry(builds, "a", 1000, 3 * RECENT_S)
    theirs = _entry(builds, "my-project-build", 1000, 3 * RECENT_S)
    assert prune(builds, 0) == (1, 1000)
    assert [mine.exists(), theirs.exists()] == [False, True]
    (tmp_path / "notes.so").write_text("mine")
    cleared = fitml("cache", "clear", env={"FITML_CACHE": str(tmp_path)})
    assert cleared.returncode == 0, cleared.stderr
    assert theirs.exists() and (tmp_path / "notes.so").exists()


def test_cache_clear_of_a_users_own_folder_removes_nothing(tmp_path):
    user = tmp_path / "user"
    builds = user / "builds"
    builds.mkdir(parents=True)
    kept = _entry(builds, "b", 100, 3 * RECENT_S)
    cleared = fitml("cache", "clear", env={"FITML_CACHE": str(user)})
    assert cleared.returncode == 0 and "nothing removed" in cleared.stdout, cleared
    assert kept.exists()
