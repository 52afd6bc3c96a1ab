"""The 64-bit key a message is stored under: a hash of its provider and id.

The key is the same in every process and on every machine, since databases
hold it: changing how it is computed would need a migration that computes
every stored key again. Two different messages may share a key, however
rarely; the schema keeps the later one unique by (provider, message_id)
instead (see the ``messages_overflow`` index).
"""

from __future__ import annotations

from hashlib import blake2b


def message_key(provider: str, message_id: str) -> int:
    """BLAKE2b-64 of ``provider``, a NUL and ``message_id``, as a signed integer.

    Text that holds bytes an export failed to decode (lone surrogates) still
    gets a key, so that computing it never fails.
    """
    text = f"{provider}\0{message_id}".encode("utf-8", "surrogatepass")
    return int.from_bytes(blake2b(text, digest_size=8).digest(), "big", signed=True)
