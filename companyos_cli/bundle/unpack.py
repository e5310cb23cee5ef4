"""Reading a bundle without trusting it.

Nothing is extracted: every entry is read as a stream straight out of the archive, and what the
inspector keeps is a bounded summary. Before any entry is opened the archive as a whole is checked
(its magic, its size, its entry count, every entry's name, type and flags, duplicates); while an entry
is read the bytes actually produced are counted against the per-entry size, the total and the
compression ratio, never the sizes the headers declare (a forged header is caught either by those
counts or by the CRC check at the entry's end).

A refusal is a `BundleRejected` whose `reason` is fit to show and whose `code` is stable (tests, the
CLI's JSON and the rejection record use it).
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local header, or an empty archive's end record
REQUIRED = ("snapshot.json", "trace.json")
ALLOWED_SUFFIXES = (".json", ".ndjson", ".log", ".txt", ".md")
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Limits:
    max_archive_bytes: int = 200 * 1024 * 1024  # the .zip itself
    max_total_bytes: int = 512 * 1024 * 1024  # all entries, uncompressed, as counted while reading
    max_entry_bytes: int = 256 * 1024 * 1024  # one entry, uncompressed
    max_entries: int = 1000
    max_ratio: int = 100  # uncompressed : compressed, per entry…
    ratio_floor: int = 1024 * 1024  # …once an entry has produced this much (small files compress well)
    max_name_length: int = 255


class BundleRejected(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _check_name(name: str, limits: Limits) -> None:
    shown = name[:80]
    if not name or len(name) > limits.max_name_length:
        raise BundleRejected("unsafe_name", f"An entry's name is empty or longer than {limits.max_name_length}.")
    if "\x00" in name or any(ord(c) < 32 for c in name):
        raise BundleRejected("unsafe_name", f"The entry {shown!r} has a control character in its name.")
    if "\\" in name:
        raise BundleRejected("unsafe_name", f"The entry {shown!r} uses a backslash (a Windows path).")
    if name.startswith("/"):
        raise BundleRejected("unsafe_name", f"The entry {shown!r} has an absolute path.")
    if len(name) >= 2 and name[1] == ":" and name[0].isalpha():
        raise BundleRejected("unsafe_name", f"The entry {shown!r} names a drive letter.")
    if ".." in PurePosixPath(name).parts:
        raise BundleRejected("unsafe_name", f"The entry {shown!r} climbs out of the bundle with '..'.")


def _check_type(info: zipfile.ZipInfo) -> None:
    shown = info.filename[:80]
    mode = info.external_attr >> 16
    if info.create_system == 3 and mode:  # Unix attributes: the file type is in the high word
        kind = stat.S_IFMT(mode)
        if kind == stat.S_IFLNK:
            raise BundleRejected("symlink", f"The entry {shown!r} is a symbolic link.")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise BundleRejected("special_file", f"The entry {shown!r} is a special file (device, FIFO or socket).")
    if info.flag_bits & 0x1:
        raise BundleRejected("encrypted", f"The entry {shown!r} is encrypted; bundles are plain archives.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise BundleRejected("compression", f"The entry {shown!r} uses an unsupported compression method.")
    if not info.is_dir() and not info.filename.lower().endswith(ALLOWED_SUFFIXES):
        raise BundleRejected(
            "file_type",
            f"The entry {shown!r} is not a diagnostic file (allowed: {', '.join(ALLOWED_SUFFIXES)}).",
        )


class _Counter:
    """The running total of uncompressed bytes over the whole archive."""

    def __init__(self):
        self.total = 0


def _overlap(exc: zipfile.BadZipFile) -> bool:
    """zipfile's own zip-bomb check (Python 3.12, and backported to some 3.11 builds such as Debian's):
    entries whose data overlap — a compressed size forged to hide a bomb. The same verdict as the
    count made while streaming: a zip bomb."""
    return "overlapped entries" in str(exc).lower() or "zip bomb" in str(exc).lower()


class CountingReader(io.RawIOBase):
    """A read-only stream over one entry that counts the bytes it really produces."""

    def __init__(self, raw, info: zipfile.ZipInfo, limits: Limits, counter: _Counter):
        self._raw = raw
        self._info = info
        self._limits = limits
        self._counter = counter
        self.produced = 0

    def readable(self):
        return True

    def _account(self, n: int) -> None:
        self.produced += n
        self._counter.total += n
        limits, shown = self._limits, self._info.filename[:80]
        if self.produced > limits.max_entry_bytes:
            raise BundleRejected(
                "entry_too_large", f"The entry {shown!r} expands past {limits.max_entry_bytes:,} bytes."
            )
        if self._counter.total > limits.max_total_bytes:
            raise BundleRejected("total_too_large", f"The bundle expands past {limits.max_total_bytes:,} bytes.")
        # The compressed bytes consumed so far (zipfile's count of what is left of the entry's data),
        # so that a bomb trips after its first megabyte, not after the header's figure.
        left = getattr(self._raw, "_compress_left", 0) or 0
        pending = len(getattr(getattr(self._raw, "_decompressor", None), "unconsumed_tail", b"") or b"")
        compressed = max(self._info.compress_size - left - pending, 1)
        if self.produced > limits.ratio_floor and self.produced / compressed > limits.max_ratio:
            raise BundleRejected(
                "ratio",
                f"The entry {shown!r} expands more than {limits.max_ratio}:1 (a zip bomb).",
            )

    def readinto(self, buffer):
        try:
            data = self._raw.read(min(len(buffer), CHUNK))
        except zipfile.BadZipFile as exc:  # a CRC mismatch: the header's sizes are forged, or the data is damaged
            if _overlap(exc):
                raise BundleRejected(
                    "ratio", f"The entry {self._info.filename[:80]!r} overlaps another ({exc})."
                ) from exc
            raise BundleRejected(
                "corrupt", f"The entry {self._info.filename[:80]!r} does not match its header ({exc})."
            ) from exc
        except Exception as exc:  # zlib.error, EOFError: a deflate stream that is not one
            raise BundleRejected("corrupt", f"The entry {self._info.filename[:80]!r} is corrupt ({exc}).") from exc
        n = len(data)
        buffer[:n] = data
        if n:
            self._account(n)
        return n


class SafeBundle:
    """An opened, checked archive: `names`, `entries` and `open(name)` for a counted stream."""

    def __init__(self, source, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._counter = _Counter()
        self._zip = _open(source, self.limits)
        try:
            self.entries = self._check_all()
        except BaseException:
            self._zip.close()
            raise
        self.names = {info.filename for info in self.entries}

    def _check_all(self) -> list[zipfile.ZipInfo]:
        infos = self._zip.infolist()
        limits = self.limits
        if len(infos) > limits.max_entries:
            raise BundleRejected(
                "too_many_entries", f"The bundle has {len(infos):,} entries (at most {limits.max_entries:,})."
            )
        seen: set[str] = set()
        files = []
        for info in infos:
            _check_name(info.filename, limits)
            _check_type(info)
            folded = info.filename.rstrip("/").casefold()
            if folded in seen:
                raise BundleRejected("duplicate", f"The entry {info.filename[:80]!r} appears more than once.")
            seen.add(folded)
            if not info.is_dir():
                if info.file_size > limits.max_entry_bytes:
                    raise BundleRejected(
                        "entry_too_large", f"The entry {info.filename[:80]!r} declares {info.file_size:,} bytes."
                    )
                if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
                    info.compress_size, 1
                ):
                    raise BundleRejected(
                        "ratio",
                        f"The entry {info.filename[:80]!r} expands more than {limits.max_ratio}:1 (a zip bomb).",
                    )
                files.append(info)
        present = {info.filename for info in files}
        missing = [name for name in REQUIRED if name not in present]
        if missing:
            raise BundleRejected("missing_file", f"The bundle has no {' and no '.join(missing)} at its top level.")
        return files

    def open(self, name: str):
        info = self._zip.getinfo(name)
        try:
            raw = self._zip.open(info)
        except zipfile.BadZipFile as exc:
            if _overlap(exc):
                raise BundleRejected("ratio", f"The entry {name[:80]!r} overlaps another ({exc}).") from exc
            raise BundleRejected("corrupt", f"The entry {name[:80]!r} cannot be read ({exc}).") from exc
        except (NotImplementedError, RuntimeError) as exc:
            raise BundleRejected("corrupt", f"The entry {name[:80]!r} cannot be read ({exc}).") from exc
        return io.BufferedReader(CountingReader(raw, info, self.limits, self._counter), CHUNK)

    def close(self):
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _open(source, limits: Limits) -> zipfile.ZipFile:
    """`source` is a path or a seekable binary file."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        try:
            with open(source, "rb") as handle:
                _check_head(handle, limits)
            return _zipfile(source)
        except OSError as exc:
            raise BundleRejected("unreadable", f"The bundle cannot be read ({exc.strerror or exc}).") from exc
    _check_head(source, limits)
    return _zipfile(source)


def _check_head(handle, limits: Limits) -> None:
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    if size > limits.max_archive_bytes:
        raise BundleRejected("too_large", f"The bundle is {size:,} bytes (at most {limits.max_archive_bytes:,}).")
    if handle.read(4) not in ZIP_MAGIC:
        raise BundleRejected("not_zip", "The file is not a ZIP archive.")
    handle.seek(0)


def _zipfile(source) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise BundleRejected("not_zip", f"The file is not a readable ZIP archive ({exc}).") from exc
