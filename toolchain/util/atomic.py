"""Atomic outputs: write into a hidden temporary sibling, put it in place only on success.

Only paths outdir.py and outpath.py allow are written. A finished folder gets fitml's marker and
replaces an existing one with one exchange rename where Linux has renameat2(RENAME_EXCHANGE), so
the output path never goes missing (elsewhere: two renames); the replaced tree, checked again
after the swap, is then deleted. SIGTERM while writing exits 143 through the same cleanup as
Ctrl-C, so no hidden temporary folder is left behind.
"""
from __future__ import annotations

import ctypes
import errno
import functools
import os
import shutil
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from ..errors import UsageError
from . import outdir, outpath

_AT_FDCWD = -100
_RENAME_NOREPLACE, _RENAME_EXCHANGE = 1, 2


@functools.lru_cache(maxsize=None)
def _renameat2():
    """libc's renameat2 on Linux (glibc >= 2.28, musl), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _rename2(src: Path, dst: Path, flags: int) -> bool:
    """renameat2(src, dst, flags); False where the platform or the filesystem lacks it."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(dst))


class _Signals:
    """While installed (main thread only) the first SIGTERM raises SystemExit(143), so the
    temporary output is cleaned up as for Ctrl-C. Inside `held()` SIGTERM and Ctrl-C only
    wait (raised at its end): a temp creation, a rename pair or the cleanup is never split.
    Handlers run in the main thread whichever thread got the signal, so no signal mask."""

    def __init__(self):
        self.main = threading.current_thread() is threading.main_thread() and \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_IGN
        self.holding = self.fired = False
        self.pending = None
        self.previous = signal.signal(signal.SIGTERM, self._handle) if self.main else None

    def _handle(self, signum, frame):
        if self.holding or self.fired:
            self.pending = self.pending or signum
            return
        self.fired = True
        raise self._exception(signum)

    @staticmethod
    def _exception(signum):
        return KeyboardInterrupt() if signum == signal.SIGINT else SystemExit(128 + signum)

    @contextmanager
    def held(self):
        if not self.main or self.holding:
            yield
            return
        self.holding = True
        sigint = signal.getsignal(signal.SIGINT)
        if sigint is signal.default_int_handler:
            signal.signal(signal.SIGINT, self._handle)
        try:
            yield
        finally:
            if sigint is signal.default_int_handler:
                signal.signal(signal.SIGINT, sigint)
            self.holding = False
        if self.pending and not self.fired:
            self.fired = True
            raise self._exception(self.pending)

    def restore(self) -> None:
        if self.main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if self.previous is None
                          else self.previous)


def _make_tmp(target: Path, directory: bool) -> Path:
    stem = f".{target.name[:100]}."
    try:
        if directory:
            target.parent.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(prefix=stem, dir=target.parent))
        fd, name = tempfile.mkstemp(prefix=stem, dir=target.parent)
        os.close(fd)
        return Path(name)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write in {target.parent}: {exc.strerror}") from None


def _remove(path: Path | None) -> None:
    if path is None or not os.path.lexists(path):
        return
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink()


def _put_dir(tmp: Path, target: Path, trash: list, keep: list) -> None:
    """Move the finished folder `tmp` to `target`; the replaced tree's new place goes into
    `trash`, or into `keep` if it changed meanwhile and cannot be put back."""
    if not os.path.lexists(target):
        if not _rename2(tmp, target, _RENAME_NOREPLACE):
            os.rename(tmp, target)
        return
    outdir.check_dir_target(target, flag=None)         # again: it may have changed meanwhile
    exchanged = _rename2(tmp, target, _RENAME_EXCHANGE)
    old = tmp if exchanged else tmp.with_name(tmp.name + "-old")
    if not exchanged:
        os.rename(target, old)
        try:
            os.rename(tmp, target)
        except OSError:
            os.rename(old, target)
            raise
    why = None if outdir.forced(target) else outdir.refusal(old)
    if not why:
        trash.append(old)
        return
    try:                                        # changed between the check and the swap
        if not (exchanged and _rename2(tmp, target, _RENAME_EXCHANGE)):
            os.rename(target, tmp)
            os.rename(old, target)
    except OSError:
        keep.append(old)
        raise UsageError(f"{target}: changed while fitml replaced it; its previous content "
                         f"is kept in {old}") from None
    raise UsageError(f"{target}: {why}")


def _put_in_place(tmp: Path, target: Path, directory: bool, trash: list, keep: list) -> None:
    """The finished `tmp` to `target` (a folder gets its marker first)."""
    try:
        if directory:
            outdir.write_marker(tmp)
            _put_dir(tmp, target, trash, keep)
            return
        kind = outpath.file_kind(tmp)
        outpath.check_file_target(target, kind=None if kind == "empty" else kind)
        os.replace(tmp, target)
    except OSError as exc:
        raise UsageError(f"{target}: cannot put the output in place: "
                         f"{exc.strerror or exc}") from None


@contextmanager
def atomic_path(target, directory: bool = False):
    """Yield a temporary path next to `target`; on success it replaces `target` atomically.

    directory=True: a folder (missing parents are created) that may replace only an empty
    folder or fitml's previous output (or any folder within outdir.replacing(target, True)).
    Otherwise a file in an existing folder, replacing only a file of the same kind."""
    target = Path(target)
    if directory:
        outdir.check_dir_target(target, flag=None)
    else:
        outpath.check_file_target(target)
    tmp = None
    trash: list = []
    keep: list = []
    signals = _Signals()
    try:
        with signals.held():
            tmp = _make_tmp(target, directory)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, (0o777 if directory else 0o666) & ~umask)   # mkstemp/mkdtemp: 0o700
        yield tmp
        with signals.held():
            _put_in_place(tmp, target, directory, trash, keep)
    finally:
        try:
            with signals.held():
                for path in {tmp, *trash} - {None, *keep}:
                    _remove(path)
        finally:
            signals.restore()
