"""Opening an export: its encoding, its SHA-256, and bytes read for progress."""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import stat
from pathlib import Path

from ..errors import UsageError

SNIFF_BYTES = 64 * 1024
READ_CHUNK = 1 << 20
# Stands in for the text of a record whose bytes did not decode.
DECODE_ERRORS = "smsctl-undecodable"


class _DecodeErrors:
    """Counts bytes that did not decode, and keeps them as lone surrogates.

    A reader checks rows for undecodable bytes only once this count moved,
    which keeps the common, clean file free of a per-row check: the text
    layer decodes a chunk before any row in it is handed on.
    """

    count = 0

    @classmethod
    def handle(cls, exc: UnicodeDecodeError):
        cls.count += 1
        return codecs.lookup_error("surrogateescape")(exc)


codecs.register_error(DECODE_ERRORS, _DecodeErrors.handle)


def decode_errors_so_far() -> int:
    """How many undecodable byte runs every export opened so far held."""
    return _DecodeErrors.count


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
            self.sha256.update(memoryview(buffer)[:count])
            self.bytes_read += count
        return count or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


def choose_encoding(head: bytes, whole: bool) -> str:
    """ "utf-8" when ``head`` decodes as UTF-8, else "cp1252" (Windows-1252).

    ``whole`` says whether ``head`` is the entire file; when it is not, a
    character cut at its end is not held against it.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=whole)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def looks_binary(head: bytes) -> bool:
    """True for bytes no text export holds: NUL bytes, or mostly control bytes."""
    if b"\x00" in head:
        return True
    sample = head[:4096]
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 13))
    return bool(sample) and controls * 10 > len(sample)


class ExportFile:
    """An export opened for one streaming pass, hashed as it is read.

    ``text`` yields the file's lines with their line ends untouched. Bytes
    that do not decode become lone surrogates, so that the row holding them
    can be rejected alone while the rest of the file is read.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            # Without blocking: opening a named pipe would otherwise wait for
            # a writer, holding the import lock meanwhile.
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except IsADirectoryError:
            raise UsageError(f"{path} is a directory; give an export file") from None
        except FileNotFoundError:
            raise UsageError(f"{path} does not exist") from None
        except OSError as exc:
            raise UsageError(f"cannot open {path}: {exc.strerror}") from None
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise UsageError(f"{path} is a directory; give an export file")
            if not stat.S_ISREG(info.st_mode):
                raise UsageError(
                    f"{path} is not a regular file (a pipe or a device); "
                    "save the export to a file and give that"
                )
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        raw = open(fd, "rb", buffering=0)
        try:
            self.size = info.st_size
            self.modified_ns = info.st_mtime_ns
            head = raw.read(SNIFF_BYTES)
            raw.seek(0)
        except OSError as exc:
            raw.close()
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
        except UsageError:
            raw.close()
            raise
        self.head = head
        self.encoding = choose_encoding(head, whole=len(head) < SNIFF_BYTES)
        self.errors_at_open = decode_errors_so_far()
        self.reader = HashingReader(raw)
        buffered = io.BufferedReader(self.reader, buffer_size=READ_CHUNK)
        if self.encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
            # Skipped here rather than by the utf-8-sig codec, which would take
            # the text layer off its fast path for UTF-8; it is still hashed.
            buffered.read(len(codecs.BOM_UTF8))
        self.text = io.TextIOWrapper(
            buffered, encoding=self.encoding, errors=DECODE_ERRORS, newline=""
        )

    def head_text(self) -> str:
        """The first 64 KiB as text, without a byte-order mark, for recognition."""
        text = self.head.decode(self.encoding, errors="replace")
        return text.lstrip("\ufeff")

    def had_decode_errors(self) -> bool:
        """Whether any bytes read so far failed to decode."""
        return decode_errors_so_far() != self.errors_at_open

    @property
    def bytes_read(self) -> int:
        return self.reader.bytes_read

    def sha256_of_rest(self) -> str:
        """Read what is left unread and return the SHA-256 of all bytes read:
        the whole file's, unless it changed while it was read."""
        while self.reader.read(READ_CHUNK):
            pass
        return self.reader.sha256.hexdigest()

    def change_since_open(self, bytes_read: int) -> str | None:
        """How the file changed while it was read, all ``bytes_read`` of it,
        or None. A file that reported no size when opened (as under /proc)
        is read whole and never judged changed."""
        if not self.size:
            return None
        if bytes_read != self.size:
            return f"{self.size:,} bytes when opened, {bytes_read:,} read"
        now = os.fstat(self.fileno())
        if now.st_size != self.size:
            return f"{self.size:,} bytes when opened and read, {now.st_size:,} now"
        if now.st_mtime_ns != self.modified_ns:
            return "written to in place"
        return None

    def fileno(self) -> int:
        """The descriptor the export is read through."""
        return self.reader.raw.fileno()

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
