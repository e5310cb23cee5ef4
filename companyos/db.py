"""Database plumbing shared by the apps (nothing domain-specific)."""

from __future__ import annotations

import json
import threading
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


class PreparedQuery:
    """A queryset built and compiled once, run many times with new values: for the few reads every
    request makes (the signed-in user, the case of a case page), where building the queryset (its
    clones, joins and subqueries) and compiling it cost several milliseconds of Python a request and
    the SQL never changes (issue 10).

    `build(**values)` returns the queryset for `values`; it is called once per thread and database
    with `sentinels` (distinctive values of the right types, e.g. -7340021 or a date in 1901), and each
    sentinel must appear among the compiled SQL's parameters. `rows(**values)` runs the SQL with each
    sentinel's parameters replaced by its value and returns model instances as the queryset would:
    deferred fields, select_related and annotations included (Django's ModelIterable, without the
    clone and the compile), or, for a `values_list()` queryset, tuples. A value that is not a plain
    parameter (a list whose length changes the SQL, a flag) belongs in the key of a PreparedQuery of
    its own."""

    def __init__(self, build, **sentinels):
        self._build = build
        self._sentinels = sentinels
        self._local = threading.local()

    def _compiled(self, using: str):
        cache = getattr(self._local, "compiled", None)
        if cache is None:
            cache = self._local.compiled = {}
        compiled = cache.get(using)
        if compiled is None:
            compiled = cache[using] = self._compile(using)
        return compiled

    def _compile(self, using: str):
        from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

        qs = self._build(**self._sentinels)
        if qs._iterable_class not in (ModelIterable, ValuesListIterable):
            raise ValueError("PreparedQuery: a queryset of model instances or of values_list() tuples")
        compiler = qs.query.get_compiler(using)
        sql, params = compiler.as_sql()
        slots = {}
        for name, sentinel in self._sentinels.items():
            slots[name] = [i for i, p in enumerate(params) if type(p) is type(sentinel) and p == sentinel]
            if not slots[name]:
                raise ValueError(f"PreparedQuery: the value {name!r} is not a parameter of the compiled SQL")
        select, klass_info = compiler.select, compiler.klass_info
        if qs._iterable_class is ValuesListIterable:  # the rows as tuples
            return {"sql": sql, "params": list(params), "slots": slots, "compiler": compiler, "model": None}
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return {
            "sql": sql,
            "params": list(params),
            "slots": slots,
            "compiler": compiler,
            "model": klass_info["model"],
            "start": start,
            "end": end,
            "init_list": [f[0].target.attname for f in select[start:end]],
            "related": get_related_populators(klass_info, select, using),
            "annotations": compiler.annotation_col_map,
        }

    def rows(self, using: str = "default", **values) -> list:
        c = self._compiled(using)
        params = list(c["params"])
        for name, value in values.items():
            for i in c["slots"][name]:
                params[i] = value
        with connections[using].cursor() as cursor:
            cursor.execute(c["sql"], params)
            fetched = cursor.fetchall()
        if c["compiler"].has_extra_select:
            fetched = [row[: c["compiler"].col_count] for row in fetched]
        if c["model"] is None:
            return [tuple(row) for row in c["compiler"].results_iter(results=[fetched])]
        out = []
        model, start, end, init_list = c["model"], c["start"], c["end"], c["init_list"]
        for row in c["compiler"].results_iter(results=[fetched]):
            obj = model.from_db(using, init_list, row[start:end])
            for populator in c["related"]:
                populator.populate(row, obj)
            for attr, pos in c["annotations"].items():
                setattr(obj, attr, row[pos])
            out.append(obj)
        return out
