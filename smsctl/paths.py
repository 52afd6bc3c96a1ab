"""Where smsctl keeps its database when none is named."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
