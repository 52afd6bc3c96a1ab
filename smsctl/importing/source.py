"""Opening an export: encoding, byte counting for progress, and its SHA-256."""

from __future__ import annotations

import codecs
import hashlib
import io
from pathlib import Path

from ..errors import UsageError

SNIFF_BYTES = 64 * 1024


class HashingReader(io.RawIOBase):
    """A binary reader that hashes and counts every byte it hands on."""

    def __init__(self, raw):
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = self.raw.readinto(buffer)
        if count:
            view = memoryview(buffer)[:count]
            self.sha256.update(view)
            self.bytes_read += count
        return count or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


def choose_encoding(head: bytes) -> str:
    """UTF-8 (byte-order mark or not) when the head decodes as UTF-8, else cp1252."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=len(head) < SNIFF_BYTES)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


class ExportFile:
    """An export opened for one streaming pass.

    Bytes that do not decode become lone surrogates (``surrogateescape``), so a
    row holding them can be rejected alone while the rest of the file is read.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            raw = open(self.path, "rb", buffering=0)
        except IsADirectoryError:
            raise UsageError(f"{path} is a directory; give an export file") from None
        except OSError as exc:
            raise UsageError(f"cannot open {path}: {exc.strerror}") from None
        try:
            self.size = self.path.stat().st_size
            head = raw.read(SNIFF_BYTES)
            raw.seek(0)
        except OSError as exc:
            raw.close()
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        self.encoding = choose_encoding(head)
        self.head = head
        self.reader = HashingReader(raw)
        self.text = io.TextIOWrapper(
            io.BufferedReader(self.reader, buffer_size=1 << 20),
            encoding=self.encoding,
            errors="surrogateescape",
            newline="",
        )

    def head_text(self) -> str:
        """The first 64 KiB as text, for recognising the format."""
        text = self.head.decode(self.encoding, errors="replace")
        return text.lstrip("\ufeff")

    @property
    def bytes_read(self) -> int:
        return self.reader.bytes_read

    def sha256_of_rest(self) -> str:
        """Read what is left and return the whole file's SHA-256."""
        while self.reader.read(1 << 20):
            pass
        return self.reader.sha256.hexdigest()

    def close(self) -> None:
        self.text.close()

    def __enter__(self) -> "ExportFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def has_undecodable(text: str) -> bool:
    """True when ``text`` holds bytes that did not decode (lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
