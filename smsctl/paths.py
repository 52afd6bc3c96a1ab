"""Where smsctl keeps its database when none is named."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

APP_NAME = "smsctl"


def application_dir() -> Path:
    """The platform's per-user application directory for smsctl."""
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or os.path.expanduser("~")
        return Path(base) / APP_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_NAME
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / APP_NAME


def default_db_path() -> Path:
    """``--db`` when neither the option nor SMSCTL_DB is given."""
    return application_dir() / "smsctl.db"


def open_private(path: Path) -> TextIO:
    """Open ``path`` to write text; a file it creates is readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", newline="", encoding="utf-8")


IMPORT_LOCK_SUFFIX = ".import-lock"
# Files SQLite and the importer keep beside a database file.
DB_COMPANIONS = ("-wal", "-shm", "-journal", IMPORT_LOCK_SUFFIX)


def is_same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same file on disk when both
    exist (through hard and symbolic links too), else the same path once
    symbolic links are followed as far as they go."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
