"""smsctl send-from: choosing the number each text goes out from."""

from __future__ import annotations

from .common import new_group

app = new_group("Pick the send-from number for a recipient.")
