"""The two PostgreSQL roles (issue 8, finding 1): the owner role owns every table and runs migrations
(MIGRATE_DATABASE_URL); the application's role (DATABASE_URL) is no superuser, owns nothing, cannot
bypass row security, and holds only INSERT and SELECT on the audit tables (normal DML elsewhere).

`create_roles` (the `db_roles` command; .ci/test and .ci/demo run it) makes both roles and the database
idempotently, as a superuser. `grant_app_privileges` runs as the owner after every `migrate`
(post_migrate), so tables that later migrations create get the same grants.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connections

log = logging.getLogger(__name__)

# Insert-only tables: the application may add and read, never change or remove.
APPEND_ONLY_TABLES = ("auditlog_logentry", "companyos_auditseal", "companyos_auditarchive")


def _ident(cursor, name: str) -> str:
    from psycopg import sql

    return sql.Identifier(name).as_string(cursor.connection)


def grant_app_privileges(cursor, app_user: str) -> None:
    """Give `app_user` what the console needs and no more. Run as the owner role (it owns the tables)."""
    app = _ident(cursor, app_user)
    cursor.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {_ident(cursor, cursor.connection.info.dbname)} TO {app}")
    cursor.execute(f"GRANT USAGE ON SCHEMA public TO {app}")
    cursor.execute(f"REVOKE CREATE ON SCHEMA public FROM {app}")
    cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}")
    cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {app}")
    # The audit tables: INSERT and SELECT on the (partitioned) table, nothing on its partitions (they are
    # reached through it), USAGE on the id sequences (nextval only, no setval).
    cursor.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
          AND (c.relname = ANY(%s) OR c.oid IN (
              SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass('auditlog_logentry')))
        """,
        [list(APPEND_ONLY_TABLES)],
    )
    tables = [row[0] for row in cursor.fetchall()]
    for table in tables:
        cursor.execute(f"REVOKE ALL ON TABLE {_ident(cursor, table)} FROM {app}")
        if table in APPEND_ONLY_TABLES:
            cursor.execute(f"GRANT SELECT, INSERT ON TABLE {_ident(cursor, table)} TO {app}")
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            if sequence:
                cursor.execute(f"REVOKE ALL ON SEQUENCE {sequence} FROM {app}")
                cursor.execute(f"GRANT USAGE ON SEQUENCE {sequence} TO {app}")
    cursor.execute("SELECT to_regprocedure('companyos_audit_ensure_partitions(integer)')")
    if cursor.fetchone()[0]:
        cursor.execute(f"GRANT EXECUTE ON FUNCTION companyos_audit_ensure_partitions(integer) TO {app}")


def grant_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate (once, for companyos): re-grant after the migrations, as the owner."""
    if sender.name != "companyos" or not settings.MIGRATE_DATABASE_URL:
        return
    connection = connections[using]
    app_user = settings.DATABASE_APP_USER
    if connection.vendor != "postgresql" or not app_user or connection.settings_dict.get("USER") == app_user:
        return  # not running as the owner (a flush as the application, single-role setups)
    with connection.cursor() as cursor:
        grant_app_privileges(cursor.cursor, app_user)


def create_roles(superuser_dsn: str, app: dict, owner: dict, *, createdb: bool = False, out=print) -> None:
    """Create (or bring up to date) the owner and application roles and the database, as a superuser
    (`createdb` lets the owner create databases, the test suite's; it is never taken away here).
    `app` and `owner` are dj_database_url dicts of DATABASE_URL and MIGRATE_DATABASE_URL. An existing
    database and the objects in its public schema are handed to the owner role."""
    import psycopg
    from psycopg import sql

    if app["USER"] == owner["USER"]:
        raise ValueError("DATABASE_URL and MIGRATE_DATABASE_URL must name two different roles")
    if app["NAME"] != owner["NAME"]:
        raise ValueError("DATABASE_URL and MIGRATE_DATABASE_URL must name the same database")
    with psycopg.connect(superuser_dsn, autocommit=True) as conn:
        for cfg, attributes in (
            (owner, "LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS" + (" CREATEDB" if createdb else "")),
            (app, "LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS NOINHERIT"),
        ):
            role = sql.Identifier(cfg["USER"])
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [cfg["USER"]]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(sql.SQL(f"{verb} ROLE {{}} {attributes}").format(role))
            if cfg.get("PASSWORD"):
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(cfg["PASSWORD"])))
            out(f"role {cfg['USER']}: {'updated' if exists else 'created'}")
        # The application's role is a member of nothing (in particular not of the owner role).
        for (member_of,) in conn.execute(
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
            [app["USER"]],
        ).fetchall():
            conn.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(member_of), sql.Identifier(app["USER"])))
        name = owner["NAME"]
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner["USER"]))
            )
            out(f"database {name}: created, owned by {owner['USER']}")
        else:
            conn.execute(
                sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(owner["USER"]))
            )
    # Hand what is already in the database to the owner (a database migrated before the roles existed).
    with psycopg.connect(superuser_dsn, dbname=owner["NAME"], autocommit=True) as conn:
        conn.execute(sql.SQL("GRANT ALL ON SCHEMA public TO {}").format(sql.Identifier(owner["USER"])))
        rows = conn.execute(
            """
            SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                   ELSE 'TABLE' END, c.relname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
              AND pg_get_userbyid(c.relowner) <> %s
              AND NOT (c.relkind = 'S' AND EXISTS (
                  SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i'))
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')
            """,
            [owner["USER"]],
        ).fetchall()
        for kind, relname in rows:
            conn.execute(
                sql.SQL(f"ALTER {kind} {{}} OWNER TO {{}}").format(
                    sql.Identifier(relname), sql.Identifier(owner["USER"])
                )
            )
        functions = conn.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')",
            [owner["USER"]],
        ).fetchall()
        for (signature,) in functions:
            conn.execute(
                sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(signature), sql.Identifier(owner["USER"]))
            )
        if rows or functions:
            out(f"database {name}: {len(rows)} relations and {len(functions)} functions handed to {owner['USER']}")
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(name), sql.Identifier(app["USER"])
            )
        )
    with (
        psycopg.connect(
            superuser_dsn,
            dbname=owner["NAME"],
            user=owner["USER"],
            password=owner.get("PASSWORD") or None,
            autocommit=True,
        ) as conn,
        conn.cursor() as cursor,
    ):
        grant_app_privileges(cursor, app["USER"])
    out(f"privileges of {app['USER']} on {name}: granted (INSERT and SELECT only on the audit tables)")
