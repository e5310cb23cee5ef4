"""Database plumbing shared by the apps (nothing domain-specific)."""

from __future__ import annotations

import json
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, connections, transaction
from django.db.utils import load_backend

OWNER_KEYS = ("USER", "PASSWORD", "HOST", "PORT")


def owner_settings(alias: str = "default") -> dict | None:
    """The settings of `alias` with the owner role's credentials (MIGRATE_DATABASE_URL), or None when
    there is no separate owner role. The database NAME stays the connection's own (the test suite's
    test_… database as well as the real one)."""
    if not settings.MIGRATE_DATABASE_URL or connections[alias].vendor != "postgresql":
        return None
    import dj_database_url

    owner = dj_database_url.parse(settings.MIGRATE_DATABASE_URL)
    merged = dict(connections[alias].settings_dict)
    merged.update({key: owner[key] for key in OWNER_KEYS})
    merged["CONN_MAX_AGE"] = 0
    return merged


@contextmanager
def owner_connection(alias: str = "default"):
    """A connection of its own as the owner role to the same database, closed afterwards: for what the
    application's role may not do (DDL, TRUNCATE, detaching and dropping audit partitions). Without a
    separate owner role, the connection `alias` itself. Use its cursor directly (it is not in
    django.db.connections under its alias: `transaction.atomic(using=…)` does not reach it)."""
    owner = owner_settings(alias)
    if owner is None:
        yield connections[alias]
        return
    wrapper = load_backend(owner["ENGINE"]).DatabaseWrapper(owner, alias)
    try:
        yield wrapper
    finally:
        wrapper.close()


@contextmanager
def as_owner(alias: str = "default"):
    """Run the block with connection `alias` itself logged in as the owner role (migrate, flush), and
    log it back in as the application's role afterwards."""
    owner = owner_settings(alias)
    if owner is None:
        yield
        return
    conn = connections[alias]
    saved = {key: conn.settings_dict.get(key) for key in OWNER_KEYS}
    conn.close()
    conn.settings_dict.update({key: owner[key] for key in OWNER_KEYS})
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict.update(saved)


def copy_rows(model, objects: list, fields: list[str]) -> None:
    """Insert rows that fire no signals (system rows, not audited per row): COPY on PostgreSQL,
    which is several times faster than a multi-row INSERT for thousands of rows; bulk_create elsewhere.
    `fields` name model fields (a foreign key as `<name>_id`); JSON fields are serialised here."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects)
        return

    def field_of(name):
        try:
            return model._meta.get_field(name)  # a field named `x_id` itself, or any other
        except FieldDoesNotExist:
            return model._meta.get_field(name.removesuffix("_id"))  # a foreign key's attname

    columns = [field_of(name).column for name in fields]
    json_fields = {name for name in fields if field_of(name).get_internal_type() == "JSONField"}
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for obj in objects:
                copy.write_row(
                    [json.dumps(getattr(obj, name)) if name in json_fields else getattr(obj, name) for name in fields]
                )


@contextmanager
def serial_queries(alias: str = "default"):
    """Run the block's queries without parallel workers (PostgreSQL; a no-op elsewhere), in a
    transaction of its own (`SET LOCAL`). For a request's index-bounded read over many partitions:
    the planner's parallel plan costs more in worker start-up (tens to hundreds of milliseconds on a
    busy machine) than the few index probes it parallelises."""
    connection = connections[alias]
    with transaction.atomic(using=alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


def one_row(qs):
    """The first row of `qs` by its filter alone, or None: `qs.first()` without the ORDER BY pk it
    adds to an unordered query. For a lookup by primary key the order changes nothing, and on a wide
    row (a page's select_related) Django spends ~0.5 ms compiling it (issue 10)."""
    rows = list(qs.order_by()[:1])
    return rows[0] if rows else None
