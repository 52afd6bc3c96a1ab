"""One importer at a time: an advisory lock file beside the database.

The kernel drops the lock when its holder exits, however it exits, so a killed
import never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import ImportLockedError, UsageError
from ..paths import IMPORT_LOCK_SUFFIX


def lock_path_for(db_path: Path) -> Path:
    return Path(str(db_path) + IMPORT_LOCK_SUFFIX)


@contextmanager
def import_lock(db_path: Path, wait_seconds: float, holder: str) -> Iterator[None]:
    """Hold the import lock, waiting up to ``wait_seconds`` for another import."""
    path = lock_path_for(db_path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise UsageError(
            f"cannot open the import lock {path}: {exc.strerror}; smsctl needs to "
            "write it beside the database"
        ) from None
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ImportLockedError(
                        f"another import holds {path} ({_read_holder(path)}); "
                        f"waited {wait_seconds:g} s (import.wait_seconds); try later"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}, {holder}".encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or "unknown"
    except OSError:
        return "unknown"
