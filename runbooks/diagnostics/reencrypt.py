"""Bundles rewritten under the current encryption key (`manage.py bundles_reencrypt`): after a key
rotation (a new key first in BUNDLE_ENCRYPTION_KEYS, the old one kept after it), and for bundles stored
in clear before encryption was required.

Bundle by bundle, each in its own transaction with its row locked (a purge or a residency move of the
same bundle waits or skips it): the stored bytes are read (decrypted with any key, or as they are when
in clear), hashed while streaming and written under the first key beside the original, with the key's
fingerprint in the name (`…~1a2b3c4d`); the plaintext's SHA-256 must be the one recorded at upload,
else the copy is deleted and the bundle reported (a file in clear that does not match is never
blessed with encryption). The row then points at the copy, and the original is deleted once that
commits. A bundle already under the first key is skipped, so the command is idempotent, and it can be
stopped at any time and run again (a copy left by an interrupted run is replaced). Audited per bundle."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field

from cryptography.fernet import Fernet
from django.core.files.base import File
from django.db import transaction

from companyos import audit

from . import crypto
from .models import TraceBundle
from .storage import encryption_keys, raw_storage

SUFFIX = re.compile(r"~[0-9a-f]{8}$")


@dataclass
class Outcome:
    current: int = 0
    reencrypted: int = 0
    encrypted: int = 0  # were in clear
    failed: list[tuple[int, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


class _Hashing(io.RawIOBase):
    """The plaintext as it streams into the new file, hashed on the way."""

    def __init__(self, source, size: int):
        self.source, self.size, self.digest, self.count = source, size, hashlib.sha256(), 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.count

    def seek(self, offset, whence=io.SEEK_SET):
        if (offset, whence) != (0, io.SEEK_SET) or self.count:
            raise io.UnsupportedOperation("a stream read once")
        return 0

    def readinto(self, buffer):
        data = self.source.read(len(buffer))
        self.digest.update(data)
        self.count += len(data)
        buffer[: len(data)] = data
        return len(data)


def target_name(name: str, fingerprint: str) -> str:
    return f"{SUFFIX.sub('', name)}~{fingerprint}"


def bundles_reencrypt(*, dry_run: bool = False, actor=None) -> Outcome:
    keys = encryption_keys()
    primary = Fernet(keys[0])
    fingerprint = crypto.key_fingerprint(keys[0])
    outcome = Outcome()
    pks = list(TraceBundle.objects.exclude(storage_name="").order_by("pk").values_list("pk", flat=True))
    for pk in pks:
        with transaction.atomic():
            bundle = TraceBundle.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if bundle is None or not bundle.storage_name:
                continue  # purged meanwhile, or locked by a purge or a move: the next run takes it
            raw = raw_storage(bundle.region)
            try:
                with raw.open(bundle.storage_name, "rb") as handle:
                    state = crypto.stored_state(handle, primary)
            except OSError as exc:
                outcome.failed.append((pk, f"cannot be read ({exc})"))
                continue
            if state == crypto.CURRENT:
                outcome.current += 1
                continue
            if dry_run:
                _count(outcome, state, f"would {_verb(state)}: #{pk} {bundle.name} ({state})")
                continue
            try:
                new_name = _rewrite(bundle, raw, state, keys, fingerprint)
            except (OSError, ValueError) as exc:
                outcome.failed.append((pk, str(exc)))
                continue
            old_name = bundle.storage_name
            TraceBundle.objects.filter(pk=pk).update(storage_name=new_name)
            audit.log_access(
                bundle,
                view="re-encrypted at rest" if state == crypto.OLDER_KEY else "encrypted at rest",
                extra={"from": state, "key": fingerprint},
            )
            transaction.on_commit(lambda raw=raw, name=old_name: raw.delete(name))
        _count(outcome, state, f"{_verb(state)}ed: #{pk} {bundle.name} (was {state})")
    return outcome


def _verb(state: str) -> str:
    return "encrypt" if state == crypto.CLEAR else "re-encrypt"


def _count(outcome: Outcome, state: str, line: str) -> None:
    if state == crypto.CLEAR:
        outcome.encrypted += 1
    else:
        outcome.reencrypted += 1
    outcome.lines.append(line)


def _rewrite(bundle: TraceBundle, raw, state: str, keys: list[str], fingerprint: str) -> str:
    target = target_name(bundle.storage_name, fingerprint)
    if target == bundle.storage_name:
        raise ValueError("its name already carries the current key's fingerprint, yet another key encrypts it")
    if raw.exists(target):
        raw.delete(target)  # left by an interrupted run
    storage = crypto.EncryptedStorage(raw, keys)
    if state == crypto.CLEAR:
        source, size = raw.open(bundle.storage_name, "rb"), raw.size(bundle.storage_name)
    else:
        source = storage.open(bundle.storage_name, "rb")
        size = storage.size(bundle.storage_name)
    with source:
        plain = _Hashing(source, size)
        content = File(plain, name=target)
        content.size = size
        saved = storage.save(target, content)
    if plain.digest.hexdigest() != bundle.sha256 or plain.count != size:
        raw.delete(saved)
        raise ValueError("its bytes do not match the SHA-256 recorded at upload: left as it is")
    return saved
