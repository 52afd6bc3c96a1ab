"""How a failed command is reported: one line on stderr and an exit code.

Kept free of Typer so that the fast pick path reports exactly as the rest.
"""

from __future__ import annotations

import sqlite3

from ..errors import SmsctlError
from ..store import primary_error_code

REPORTED = (SmsctlError, sqlite3.OperationalError, sqlite3.DatabaseError)


def failure_report(exc: BaseException) -> tuple[str, int]:
    """The message and exit code for one of the REPORTED exceptions."""
    if isinstance(exc, SmsctlError):
        return str(exc), exc.exit_code
    if isinstance(exc, sqlite3.OperationalError):
        primary = primary_error_code(exc)
        if primary in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN):
            return (
                f"the database cannot be written ({exc}); smsctl needs to write "
                "the --db file and the folder it is in",
                2,
            )
        return f"the database is busy or unwritable ({exc}); try again", 1
    return f"the database cannot be read ({exc}); is --db an smsctl file?", 2
