"""Bytes to text: bounded reading, UTF-8 / cp1252 decoding, binary detection, line endings."""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path
from typing import overload

from pipelines.ingest.parsed import Problem, Refused

_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# Real text has few control characters; a higher share means a binary file that happens to decode.
_MAX_CONTROL_SHARE = 0.10
# Latin-1 prose in any European language stays well under this share of non-ASCII letters;
# binary data read as cp1252 goes far over it.
_MAX_CP1252_NON_ASCII_SHARE = 0.30
# Unicode category Cc except the whitespace controls \t \n \v \f \r.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")


@overload
def read_limited(path: str | Path, max_bytes: int) -> bytes: ...
@overload
def read_limited(path: str | Path, max_bytes: int, follow_links: bool) -> bytes | None: ...
def read_limited(path: str | Path, max_bytes: int, follow_links: bool = True) -> bytes | None:
    """Return the bytes of a regular file; one over `max_bytes` is refused before any read.

    With ``follow_links=False``, None when ``path`` is a link (nothing is read then).
    """
    try:
        info = os.stat(path) if follow_links else os.lstat(path)
    except FileNotFoundError:
        raise Refused("unreadable", "no such file (or a broken link)") from None
    except OSError as exc:
        raise Refused("unreadable", f"cannot stat: {exc.strerror or exc}") from None
    if not follow_links and stat.S_ISLNK(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        # Opening a FIFO or device could block or never end.
        raise Refused("not_a_file", "not a regular file")
    if info.st_size > max_bytes:
        raise Refused("too_large", f"{info.st_size} bytes, over the limit of {max_bytes}")
    flags = os.O_RDONLY | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    try:
        with open(os.open(path, flags), "rb") as handle:
            # One byte past the limit tells a file that grew since stat from one that fits.
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        if not follow_links and exc.errno == errno.ELOOP:
            return None  # made a link since the lstat
        raise Refused("unreadable", f"cannot read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise Refused("too_large", f"over the limit of {max_bytes} bytes")
    return data


def decode_text(data: bytes) -> tuple[str, Problem | None]:
    """Decode file bytes as UTF-8 (BOM optional), else cp1252 with a warning; newlines become \\n.

    Raises Refused for binary content and for text in another encoding.
    """
    if data.startswith(_UTF16_32_BOMS):
        raise Refused("not_utf8_text", "UTF-16 or UTF-32 text (byte-order mark); save it as UTF-8")
    if b"\x00" in data:
        raise Refused("binary", "contains NUL bytes")
    warning = None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = _decode_cp1252(data, exc)
        warning = Problem(
            "decoded_as_cp1252",
            f"not valid UTF-8 (first bad byte at offset {exc.start}); read as cp1252",
        )
    if _control_share(text) > _MAX_CONTROL_SHARE:
        raise Refused("binary", "mostly control characters")
    return normalize_newlines(text), warning


def normalize_newlines(text: str) -> str:
    """Turn \\r\\n and lone \\r into \\n, the only change made to article text."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_cp1252(data: bytes, utf8_error: UnicodeDecodeError) -> str:
    non_ascii = len(data) - len(data.decode("ascii", "ignore"))
    if non_ascii > _MAX_CP1252_NON_ASCII_SHARE * len(data):
        raise Refused("binary", "mostly non-text bytes")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        cause = f"neither UTF-8 nor cp1252 (bad UTF-8 byte at offset {utf8_error.start})"
        raise Refused("not_utf8_text", cause) from None


def _control_share(text: str) -> float:
    return len(_CONTROL.findall(text)) / max(len(text), 1)
