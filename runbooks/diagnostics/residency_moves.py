"""Moving a tenant's trace bundles into the storage of its (new) data region (`manage.py
move_residency`, registered with `companyos.residency.register_mover`), as the attachments move
(cases/residency_moves.py): bundle by bundle, each in its own transaction, the stored bytes (encrypted
or not: copied as they are) copied into the new region and verified, the row pointed at the copy, the
original deleted once that commits. Purged and rejected bundles (no bytes left) only change region."""

from __future__ import annotations

from django.db import transaction

from companyos import audit, residency

from .models import TraceBundle
from .storage import raw_storage


def move_bundles(tenant, *, to: str, actor, dry_run: bool = False) -> int:
    code = residency.region_code(to)
    target = raw_storage(code)  # a region without storage: refused before anything moves
    pending = TraceBundle.objects.filter(tenant=tenant).exclude(region=code)
    if dry_run:
        return pending.exclude(storage_name="").count()
    moved = 0
    for pk in list(pending.order_by("pk").values_list("pk", flat=True)):
        with transaction.atomic():
            bundle = TraceBundle.objects.select_for_update().filter(pk=pk).first()
            if bundle is None or bundle.region == code:
                continue
            if not bundle.storage_name:
                TraceBundle.objects.filter(pk=pk).update(region=code)
                continue
            source_code, old_name = bundle.region, bundle.storage_name
            source = raw_storage(source_code)
            new_name = residency.copy_file(old_name, source=source, target=target)
            TraceBundle.objects.filter(pk=pk).update(region=code, storage_name=new_name)
            audit.log_access(bundle, view="moved to another data region", extra={"from": source_code, "to": code})
            transaction.on_commit(lambda source=source, name=old_name: source.delete(name))
        moved += 1
    return moved
