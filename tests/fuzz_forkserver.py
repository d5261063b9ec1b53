"""A fork server for the fuzz test: import `toolchain.cli` and the heavy model libraries
(TensorFlow, torch, onnx) once, then fork one child per run.

A fresh `fitml` process costs 0.5 s (.tflite) to 9 s (.h5 imports TensorFlow); a fork costs a
few ms. Each child starts its own process group, takes an address-space limit (the server's
own mapped size plus the budget, since the preloaded libraries already map ~2.5 GB), sends
stdout/stderr to files, runs the callable (usually `toolchain.cli.main(argv)`, exactly as the
console script would) and exits with its code. The server waits with a timeout, kills the group
on expiry and reads the child's peak RSS from wait4.
"""
from __future__ import annotations

import contextlib
import faulthandler
import importlib
import logging
import os
import resource
import signal
import sys
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

LIBS = {"tflite": (), "onnx": ("onnx", "onnxruntime"), "pt2": ("torch",),
        "h5": ("h5py", "tensorflow", "tf_keras", "keras"),
        "keras": ("h5py", "tensorflow", "tf_keras", "keras")}



def _torch_warmup() -> None:
    """torch.export materializes ~1,000 aten operator objects on every load (1.7 s); done
    here once, the children inherit them."""
    import torch
    from torch._export.utils import _collect_all_valid_cia_ops
    torch.export.default_decompositions()
    _collect_all_valid_cia_ops()


WARMUPS = {"pt2": _torch_warmup}


@dataclass
class Run:
    """One child's result: exit code (negative: killed by that signal), wall time, peak RSS
    above the server's own, captured output."""
    returncode: int
    seconds: float
    rss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False


def _vm_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


class ForkServer:
    def __init__(self, timeout: float = 60.0, mem_budget: int = 2 << 30, jobs: int = 2):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import toolchain.cli  # noqa: F401  (the code under test, imported once)
        self.timeout, self.mem_budget, self.jobs = timeout, mem_budget, jobs
        self.loaded: set[str] = set()
        self.base_rss_kb = 0

    def preload(self, fmt: str) -> None:
        """Import what loading `fmt` needs (each library's import-time stderr is dropped)."""
        for name in LIBS[fmt]:
            if name not in self.loaded:
                with _stderr_dropped():
                    importlib.import_module(name)
                self.loaded.add(name)
        self.base_rss_kb = self._base_rss()

    def warm(self, fmt: str, argvs: list[list[str]], workdir: Path) -> int:
        """Run `argvs` (inspect and check of a `fmt` seed model) in a child and import, here,
        every module the child imported lazily, so later children start warm. Returns the
        number of modules imported."""
        self.preload(fmt)

        def target():
            before = set(sys.modules)
            for argv in argvs:
                cli_target(argv)()
            sys.__stdout__.flush()
            with open(workdir / ".fuzz_modules", "w") as f:
                f.write("\n".join(m for m in sys.modules if m not in before))
            return 0
        self.run_many([(0, target, workdir)])
        names = (workdir / ".fuzz_modules").read_text().split() \
            if (workdir / ".fuzz_modules").exists() else []
        count = 0
        with _stderr_dropped():
            for name in names:
                if name not in sys.modules:
                    try:
                        importlib.import_module(name)
                        count += 1
                    except Exception:
                        pass
        if fmt in WARMUPS:
            with contextlib.suppress(Exception):
                WARMUPS[fmt]()
        self.base_rss_kb = self._base_rss()
        return count

    def _base_rss(self) -> int:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        return os.wait4(pid, 0)[2].ru_maxrss

    def run_cli(self, argv: list[str], workdir: Path, env: dict | None = None) -> Run:
        return self.run_many([(0, cli_target(argv, env), workdir)])[0]

    def run_many(self, tasks) -> dict:
        """tasks: (key, target callable returning an exit code, workdir); runs `jobs` at a
        time and returns {key: Run}."""
        pending, running, results = list(tasks), {}, {}
        limit = _vm_bytes() + self.mem_budget
        while pending or running:
            while pending and len(running) < self.jobs:
                key, target, workdir = pending.pop(0)
                workdir.mkdir(parents=True, exist_ok=True)
                pid = os.fork()
                if pid == 0:
                    _child(target, workdir, limit)
                running[pid] = (key, workdir, time.monotonic())
            done = False
            for pid, (key, workdir, start) in list(running.items()):
                elapsed = time.monotonic() - start
                exited = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
                if exited is None and elapsed <= self.timeout:
                    continue
                _kill_group(pid)   # the unreaped child still holds the group id
                _, status, usage = os.wait4(pid, 0)
                results[key] = self._result(status, usage, elapsed, workdir, exited is None)
                del running[pid]
                done = True
            if not done:
                time.sleep(0.005)
        return results

    def _result(self, status, usage, elapsed, workdir, timed_out=False) -> Run:
        code = os.waitstatus_to_exitcode(status)
        rss = max(usage.ru_maxrss - self.base_rss_kb, 0) / 1024

        def read(name):
            path = workdir / name
            return path.read_text(errors="replace") if path.exists() else ""
        return Run(code, elapsed, rss, read(".fuzz_stdout"), read(".fuzz_stderr"), timed_out)


@contextlib.contextmanager
def _stderr_dropped():
    """Libraries' import-time noise (TensorFlow's C++ logging) does not reach our stderr."""
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _kill_group(pgid: int) -> None:
    """A timed-out child and whatever it started (gcc, QEMU) die with its process group."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def cli_target(argv: list[str], env: dict | None = None) -> Callable[[], int]:
    def target() -> int:
        os.environ.update(env or {})
        from toolchain.cli import main
        try:
            return main(argv)
        except SystemExit as exc:   # argparse; the console script's sys.exit(main())
            if exc.code is None or isinstance(exc.code, int):
                return exc.code or 0
            print(exc.code, file=sys.stderr)
            return 1
    return target


def _fresh_interpreter_reporting() -> None:
    """Warnings and log records reach stderr as in a fresh `fitml` process, not pytest's
    recorders (pytest runs tests inside catch_warnings(record=True) and adds log handlers)."""
    warnings.resetwarnings()
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                     ResourceWarning):
        warnings.simplefilter("ignore", category)
    warnings.showwarning = warnings._showwarning_orig
    warnings._showwarnmsg_impl = lambda msg: sys.stderr.write(warnings._formatwarnmsg_impl(msg))
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)


def _child(target: Callable[[], int], workdir: Path, vm_limit: int) -> None:
    code = 70
    try:
        os.setpgid(0, 0)
        resource.setrlimit(resource.RLIMIT_AS, (vm_limit, vm_limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        for fd, name in ((1, ".fuzz_stdout"), (2, ".fuzz_stderr")):
            new = os.open(workdir / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(new, fd)
            os.close(new)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        sys.stdin = open(0, closefd=False)
        # as the interpreter sets them up: stderr line-buffered and backslashreplace
        sys.stdout, sys.stderr = (
            open(fd, "w", buffering=1 if fd == 2 else -1, encoding=orig.encoding,
                 errors=orig.errors, closefd=False)
            for fd, orig in ((1, sys.__stdout__), (2, sys.__stderr__)))
        os.chdir(workdir)
        faulthandler.disable()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _fresh_interpreter_reporting()
        code = target()
    except BaseException:  # what the interpreter prints for an uncaught exception
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        os._exit(code if isinstance(code, int) and 0 <= code < 256 else 1)
