"""The 64-bit key a message is stored under: a hash of its provider and id.

The key is the same in every process and on every machine, since databases
hold it: changing how it is computed would need a migration that computes
every stored key again. Two different messages may share a key, however
rarely; the schema keeps the later one unique by (provider, message_id)
instead (see the ``messages_overflow`` index).
"""

from __future__ import annotations

import struct
from hashlib import blake2b

# Each provider's prefix, hashed once: an import keys every row of a file.
_PREFIXES: dict[str, blake2b] = {}
_SIGNED_64 = struct.Struct(">q").unpack


def message_key(provider: str, message_id: str) -> int:
    """BLAKE2b-64 of ``provider``, a NUL and ``message_id``, as a signed integer.

    Text that holds bytes an export failed to decode (lone surrogates) still
    gets a key, so that computing it never fails.
    """
    prefix = _PREFIXES.get(provider)
    if prefix is None:
        prefix = blake2b(_utf8(f"{provider}\0"), digest_size=8)
        _PREFIXES[provider] = prefix
    state = prefix.copy()
    state.update(_utf8(message_id))
    return _SIGNED_64(state.digest())[0]


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")
