"""smsctl optouts: the pool-wide opt-out list."""

from __future__ import annotations

from .common import new_group

app = new_group("The pool-wide opt-out list.")
