"""Moving a tenant's attachments into the storage of its (new) data region (issue 18, point 5;
`manage.py move_residency`, registered with `companyos.residency.register_mover`).

File by file, each in its own transaction: the file is copied into the new region's storage and
verified (SHA-256), the row is pointed at the copy (`region`, `file`), and the original is deleted
once that commits. Interrupted, it leaves every row pointing at a complete file; run it again to
finish (a verified copy already in the target is reused)."""

from __future__ import annotations

from django.db import transaction

from companyos import audit, residency

from .models import Attachment


def move_attachments(tenant, *, to: str, actor, dry_run: bool = False) -> int:
    code = residency.region_code(to)
    target = residency.storage_for_region(code)  # a region without storage: refused before anything moves
    pending = Attachment.objects.filter(case__tenant=tenant).exclude(region=code)
    if dry_run:
        return pending.count()
    moved = 0
    for pk in list(pending.order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            attachment = Attachment.objects.select_for_update().filter(pk=pk).first()
            if attachment is None or attachment.region == code:
                continue
            source_code, old_name = attachment.region, attachment.file.name
            source = residency.storage_for_region(source_code)
            new_name = residency.copy_file(old_name, source=source, target=target)
            Attachment.objects.filter(pk=pk).update(region=code, file=new_name)
            audit.log_access(attachment, view="moved to another data region", extra={"from": source_code, "to": code})
            transaction.on_commit(lambda source=source, name=old_name: source.delete(name))
        moved += 1
    return moved
