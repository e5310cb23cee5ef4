"""Encryption at rest of trace bundles: `EncryptedStorage(inner, keys)`, a Django storage that keeps
every file in `inner` as Fernet tokens (`cryptography`), one per 1 MiB of plaintext.

Keys rotate (`MultiFernet`): the first key encrypts, every key decrypts, so bundles written under an
older key stay readable until `manage.py bundles_reencrypt` (`reencrypt.py`) has rewritten them under
the first one; `stored_state()` tells which a stored file is (clear, current or an older key).

Fernet has no streaming mode, so a file is a header (`COSF1\\n` and the plaintext size) followed by
fixed-size records, each the Fernet token of one 1 MiB chunk (the last one shorter). Every full
record has the same length, so `open()` returns a seekable reader that decrypts only the chunk a
read needs (zipfile seeks to the central directory at the end, then streams the entries): nothing is
decrypted to disk, and memory holds one chunk. A tampered record fails its HMAC (InvalidToken →
OSError: the inspection fails cleanly, the download stops)."""

from __future__ import annotations

import io
import struct

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.files.base import File
from django.core.files.storage import Storage

MAGIC = b"COSF1\n"
HEADER = len(MAGIC) + 8
CHUNK = 1024 * 1024


def _token_length(plain: int) -> int:
    raw = 1 + 8 + 16 + (plain // 16 + 1) * 16 + 32  # version, time, IV, padded ciphertext, HMAC
    return 4 * ((raw + 2) // 3)


RECORD = _token_length(CHUNK)


class DecryptingReader(io.RawIOBase):
    def __init__(self, raw, fernet: Fernet | MultiFernet):
        self._raw = raw
        self._fernet = fernet
        head = raw.read(HEADER)
        if len(head) != HEADER or not head.startswith(MAGIC):
            raise OSError(
                "not an encrypted bundle (no encryption header: stored in clear before encryption was "
                "required; `manage.py bundles_reencrypt` encrypts it)"
            )
        self.size = struct.unpack(">Q", head[len(MAGIC) :])[0]
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _chunk(self, index: int) -> bytes:
        if self._cached and self._cached[0] == index:
            return self._cached[1]
        start = index * CHUNK
        length = min(CHUNK, self.size - start)
        self._raw.seek(HEADER + index * RECORD)
        token = self._raw.read(_token_length(length))
        try:
            plain = self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise OSError(
                f"chunk {index} of the encrypted bundle fails its check (tampered, or the wrong key)"
            ) from exc
        self._cached = (index, plain)
        return plain

    def readinto(self, buffer):
        if self._pos >= self.size:
            return 0
        index, offset = divmod(self._pos, CHUNK)
        data = self._chunk(index)[offset : offset + len(buffer)]
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self):
        self._raw.close()
        super().close()


def _fernets(keys) -> list[Fernet]:
    keys = [keys] if isinstance(keys, (str, bytes)) else list(keys)
    if not keys:
        raise ValueError("no encryption key: bundles are never stored in clear")
    return [Fernet(key) for key in keys]


def key_fingerprint(key: str | bytes) -> str:
    """A short, non-secret name for a key (file names of re-encrypted bundles, the command's output)."""
    import hashlib

    return hashlib.sha256(key.encode() if isinstance(key, str) else key).hexdigest()[:8]


CLEAR, CURRENT, OLDER_KEY = "clear", "current", "older key"


def stored_state(raw, primary: Fernet) -> str:
    """How a stored file is kept, from its header and first record (read from `raw`, the stored bytes):
    CLEAR (no encryption header: written before encryption was required), CURRENT (under the key that
    encrypts) or OLDER_KEY (under another key: to be re-encrypted)."""
    head = raw.read(HEADER)
    if len(head) != HEADER or not head.startswith(MAGIC):
        return CLEAR
    size = struct.unpack(">Q", head[len(MAGIC) :])[0]
    if size == 0:
        return CURRENT
    try:
        primary.decrypt(raw.read(_token_length(min(CHUNK, size))))
    except InvalidToken:
        return OLDER_KEY
    return CURRENT


class EncryptedStorage(Storage):
    def __init__(self, inner: Storage, keys):
        """`keys`: one Fernet key or a list, the first encrypting."""
        self.inner = inner
        fernets = _fernets(keys)
        self.primary = fernets[0]
        self.fernet = MultiFernet(fernets)

    def _save(self, name, content):
        source = content.open("rb") if hasattr(content, "open") else content
        source.seek(0)
        size = getattr(content, "size", None)
        if size is None:
            source.seek(0, io.SEEK_END)
            size = source.tell()
            source.seek(0)

        fernet = self.primary

        class Records(io.RawIOBase):
            """The encrypted file, produced chunk by chunk as the inner storage reads it."""

            def __init__(self):
                self.pending = MAGIC + struct.pack(">Q", size)

            def readable(self):
                return True

            def readinto(self, buffer):
                while not self.pending:
                    chunk = b""
                    while len(chunk) < CHUNK:  # full chunks only: every record but the last has one length
                        more = source.read(CHUNK - len(chunk))
                        if not more:
                            break
                        chunk += more
                    if not chunk:
                        return 0
                    self.pending = fernet.encrypt(chunk)
                n = min(len(buffer), len(self.pending))
                buffer[:n] = self.pending[:n]
                self.pending = self.pending[n:]
                return n

        return self.inner.save(name, File(io.BufferedReader(Records(), CHUNK), name=name))

    def _open(self, name, mode="rb"):
        return File(io.BufferedReader(DecryptingReader(self.inner.open(name, "rb"), self.fernet), CHUNK), name=name)

    def delete(self, name):
        self.inner.delete(name)

    def exists(self, name):
        return self.inner.exists(name)

    def size(self, name):
        with self.inner.open(name, "rb") as handle:
            head = handle.read(HEADER)
        return struct.unpack(">Q", head[len(MAGIC) :])[0]

    def get_available_name(self, name, max_length=None):
        return self.inner.get_available_name(name, max_length=max_length)

    def path(self, name):
        raise NotImplementedError("encrypted bundles have no plain path")

    def url(self, name):
        raise NotImplementedError("bundles are never served directly")
