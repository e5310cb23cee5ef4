"""The `companyos` command line: `companyos auth login`, `companyos support create|show|list|reply`.
Human output by default, `--json` for scripts; exit codes in companyos_cli/__init__.py."""

from __future__ import annotations

import json
import os
import re
import sys

import click

from . import __version__, config
from .client import INVALID, OTHER, APIError, Client

PRIORITIES = ["critical", "high", "medium", "low"]
CATEGORIES = ["authentication", "validation", "performance", "integration", "documentation", "feature_request", "other"]
ISSUE_TYPES = ["bug", "question", "configuration", "incident"]
ENVIRONMENTS = ["production", "staging", "development", "unknown"]
STATUSES = ["open", "all", "new", "triage", "in_progress", "waiting_on_customer", "resolved", "closed"]
SORTS = ["priority", "sla", "age", "newest", "updated", "stale"]
DURATION = re.compile(r"^\d{1,6}[smhd]$")
KEY = re.compile(r"^([A-Za-z]+-)?\d{1,12}$")


def err(message: str) -> None:
    click.echo(message, err=True)


class Context:
    def __init__(self, as_json: bool, wait: bool):
        self.as_json = as_json
        self.wait = wait
        self._config = None

    @property
    def config(self) -> config.Config:
        if self._config is None:
            try:
                self._config = config.load()
            except config.ConfigError as exc:
                raise APIError(str(exc), exit_code=OTHER) from None
        return self._config

    def client(self) -> Client:
        cfg = self.config
        return Client(cfg.url, cfg.token, wait=self.wait, notify=err)

    def out(self, data, human) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            human(data)


def run(ctx: Context, fn):
    """Run `fn`, turning an APIError into its message and exit code (never a traceback)."""
    try:
        return fn()
    except APIError as exc:
        if ctx.as_json:
            click.echo(
                json.dumps({"error": str(exc), "status": exc.status, "errors": exc.errors, "exit_code": exc.exit_code}),
                err=True,
            )
        else:
            err(f"error: {exc}")
            for item in exc.errors:
                if item.get("field"):
                    err(f"  {item.get('field')}: {item.get('message')}")
            if exc.retry_after is not None:
                err(f"  retry after {exc.retry_after} s")
        sys.exit(exc.exit_code)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts) instead of text.")
wait_option = click.option(
    "--no-wait", is_flag=True, help="When rate limited, fail at once (exit 6) instead of waiting for Retry-After."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="companyos")
def main():
    """CompanyOS Support from the command line (talks to the console's REST API)."""


# --- auth ---------------------------------------------------------------------------------------------------


@main.group()
def auth():
    """Store and check the token the CLI uses."""


@auth.command("login")
@click.option("--url", help="The console's address, e.g. https://support.example.com")
@click.option("--token", help="An API token (Preferences → API tokens). Asked for when left out.")
@click.option("--tenant", help="The tenant `support create` uses by default.")
@click.option("--requester", help="The contact (e-mail) `support create` files as by default.")
@json_option
def auth_login(url, token, tenant, requester, as_json):
    """Check a token against the console and store it in the config file."""
    ctx = Context(as_json, wait=True)

    def go():
        current = ctx.config
        new_url = url or current.url or click.prompt("Console URL")
        new_token = token or click.prompt("Token", hide_input=True)
        client = Client(new_url, new_token, wait=True, notify=err)
        client.get("tenants/", {"page_size": 1})  # 401 for a bad token: nothing is stored
        file = config.save(url=new_url, token=new_token, tenant=tenant, requester=requester)
        ctx.out(
            {"config": str(file), "url": new_url},
            lambda d: click.echo(f"Logged in to {d['url']}; token stored in {d['config']}."),
        )

    run(ctx, go)


@auth.command("status")
@json_option
def auth_status(as_json):
    """Show which console and token the CLI would use, and whether the token works."""
    ctx = Context(as_json, wait=True)

    def go():
        cfg = ctx.config
        tenants = ctx.client().get("tenants/", {"page_size": 100})["results"]
        data = {"url": cfg.url, "token": cfg.token[:12] + "…", "tenants": [t["slug"] for t in tenants]}
        ctx.out(
            data, lambda d: click.echo(f"{d['url']} with {d['token']}: tenants {', '.join(d['tenants']) or 'none'}")
        )

    run(ctx, go)


# --- support ------------------------------------------------------------------------------------------------


@main.group()
def support():
    """Open, read, list and answer support cases."""


def _text(value: str | None) -> str | None:
    """`-` reads the text from standard input."""
    if value == "-":
        return sys.stdin.read()
    return value


def _key(value: str) -> str:
    value = value.strip()
    if not KEY.match(value):
        raise click.BadParameter(f"{value!r} is not a case key such as CS-1042.")
    return value if "-" in value else f"CS-{value}"


def _validate_duration(ctx, param, value):
    if value is not None and not DURATION.match(value):
        raise click.BadParameter("a duration such as 30m, 2h or 1d (at most 7d)")
    return value


def _case_line(c: dict) -> str:
    owner = (c.get("owner") or {}).get("username") or "—"
    return f"{c['key']:<10} {c['priority_code']:<3} {c['status']:<20} {c['tenant']:<14} {owner:<12} {c['subject']}"


def _print_case(c: dict) -> None:
    click.echo(f"{c['key']}  {c['subject']}")
    owner = (c.get("owner") or {}).get("name") or "unassigned"
    click.echo(f"  {c['priority_code']} {c['priority']} · {c['status']} · {c['tenant']} · owner: {owner}")
    click.echo(f"  requester: {c['requester']['name']} <{c['requester']['email']}> · channel: {c['channel']}")
    sla = c.get("sla") or {}
    if sla.get("due_at"):
        click.echo(f"  SLA: {sla['state']} ({sla['clock']} due {sla['due_at']})")
    if c.get("description"):
        click.echo("")
        click.echo(c["description"])
    for entry in c.get("timeline", []):
        who = (entry.get("author") or {}).get("name", "")
        label = entry["kind"] + ("" if entry["public"] else " (internal)")
        click.echo(f"\n— {entry['created_at']} · {who} · {label}")
        if entry.get("body"):
            click.echo(entry["body"])
        for a in entry.get("attachments", []):
            click.echo(f"  [attachment] {a['filename']} ({a['size']} bytes)")


class _Progress:
    """A file whose reads advance a progress bar (the upload's)."""

    def __init__(self, file, bar):
        self.file, self.bar = file, bar

    def read(self, size=-1):
        chunk = self.file.read(size)
        self.bar.update(len(chunk))
        return chunk

    def __getattr__(self, name):
        return getattr(self.file, name)


def _upload(client: Client, key: str, filename: str, show_bar: bool) -> dict:
    size = os.path.getsize(filename)
    with (
        open(filename, "rb") as file,
        click.progressbar(
            length=size, label=f"Uploading {os.path.basename(filename)}", file=sys.stderr, hidden=not show_bar
        ) as bar,
    ):
        wrapped = _Progress(file, bar)

        def rewind():
            file.seek(0)

        return client.upload(f"cases/{key}/attachments/", os.path.basename(filename), wrapped, rewind)


@support.command("create")
@click.option("--tenant", help="Tenant slug (default: the config's tenant).")
@click.option("--subject", required=True, help="One line saying what is wrong.")
@click.option("--description", help="The details; `-` reads them from standard input.")
@click.option("--priority", type=click.Choice(PRIORITIES), default="medium", show_default=True)
@click.option("--category", type=click.Choice(CATEGORIES))
@click.option("--issue-type", type=click.Choice(ISSUE_TYPES))
@click.option("--environment", type=click.Choice(ENVIRONMENTS))
@click.option("--requester", help="The contact filing it: e-mail or id (default: the config's requester).")
@click.option("--error-id", "error_ids", multiple=True, help="An error id the product showed (repeatable).")
@click.option("--trace-link", "trace_links", multiple=True, help="A link to a trace (repeatable).")
@click.option(
    "--attach", "attachments", multiple=True, type=click.Path(exists=True, dir_okay=False), help="A file (repeatable)."
)
@click.option(
    "--trace-bundle",
    type=click.Path(exists=True, dir_okay=False),
    help="A trace-<timestamp>-<channel>.zip to attach and have inspected (checked offline first).",
)
@click.option(
    "--telemetry-since",
    callback=_validate_duration,
    help="Attach the tenant's SLIs, alerts and deployments of this last window (30m, 2h, 1d), read by the console.",
)
@json_option
@wait_option
def support_create(
    tenant, subject, description, priority, category, issue_type, environment, requester, error_ids, trace_links,
    attachments, trace_bundle, telemetry_since, as_json, no_wait,
):  # fmt: skip
    """Open a case."""
    ctx = Context(as_json, wait=not no_wait)

    def go():
        cfg = ctx.config
        body = {
            "tenant": tenant or cfg.tenant,
            "requester": requester or cfg.requester,
            "subject": subject,
            "description": _text(description) or "",
            "priority": priority,
            "channel": "cli",
            "error_ids": list(error_ids),
            "trace_links": list(trace_links),
        }
        if not body["tenant"]:
            raise APIError("Say which tenant: --tenant, or `tenant` in the config.", exit_code=INVALID)
        if not body["requester"]:
            raise APIError("Say who files it: --requester EMAIL, or `requester` in the config.", exit_code=INVALID)
        for name, value in (("category", category), ("issue_type", issue_type), ("environment", environment)):
            if value:
                body[name] = value
        if telemetry_since:
            body["telemetry_since"] = telemetry_since
        client = ctx.client()
        case = client.create_case(body)
        uploaded = []
        for filename in attachments:
            try:
                uploaded.append(_upload(client, case["key"], filename, show_bar=not as_json))
            except APIError as exc:
                raise APIError(f"{case['key']} was opened, but {filename} was not attached: {exc}",
                               exit_code=exc.exit_code, status=exc.status, errors=exc.errors) from None  # fmt: skip
        case["uploaded"] = uploaded
        if trace_bundle:
            try:
                case["trace_bundle"] = _attach_bundle(
                    client, case["key"], trace_bundle, show_bar=not as_json, wait_seconds=60
                )
            except APIError as exc:
                raise APIError(f"{case['key']} was opened, but the trace bundle was not attached: {exc}",
                               exit_code=exc.exit_code, status=exc.status, errors=exc.errors) from None  # fmt: skip

        def human(c):
            click.echo(f"Opened {c['key']}: {c['subject']}")
            for a in c["attachments"]:
                click.echo(f"  attached {a['filename']} ({a['size']} bytes)")
            for a in uploaded:
                click.echo(f"  attached {a['filename']} ({a['size']} bytes)")
            if c.get("trace_bundle"):
                _print_bundle(c["trace_bundle"])

        ctx.out(case, human)

    run(ctx, go)


@support.command("show")
@click.argument("key", callback=lambda c, p, v: _key(v))
@json_option
@wait_option
def support_show(key, as_json, no_wait):
    """Show a case with its timeline."""
    ctx = Context(as_json, wait=not no_wait)
    run(ctx, lambda: ctx.out(ctx.client().get(f"cases/{key}/"), _print_case))


@support.command("list")
@click.option("--status", multiple=True, type=click.Choice(STATUSES), help="Default: open.")
@click.option("--priority", multiple=True, type=click.Choice(PRIORITIES))
@click.option("--tenant", multiple=True, help="Tenant slug (repeatable).")
@click.option("--owner", help="me, unassigned or a username.")
@click.option("--tag", multiple=True)
@click.option("-q", "--query", help="Search key, subject and description.")
@click.option("--sort", type=click.Choice(SORTS), default="priority", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=25, show_default=True, help="How many cases.")
@json_option
@wait_option
def support_list(status, priority, tenant, owner, tag, query, sort, limit, as_json, no_wait):
    """List cases (the console's queue filters), following the cursor pages up to --limit."""
    ctx = Context(as_json, wait=not no_wait)

    def go():
        params = {"status": list(status), "priority": list(priority), "tenant": list(tenant), "tag": list(tag)}
        params = {k: v for k, v in params.items() if v}
        if owner:
            params["owner"] = owner
        if query:
            params["q"] = query
        if sort != "priority":
            params["sort"] = sort
        client, cases, cursor = ctx.client(), [], None
        while len(cases) < limit:
            page = client.get("cases/", {**params, "page_size": min(100, limit - len(cases)), **(
                {"cursor": cursor} if cursor else {})})  # fmt: skip
            cases += page["results"]
            cursor = page["next"]
            if not cursor:
                break

        def human(rows):
            if not rows:
                click.echo("No cases.")
            for c in rows:
                click.echo(_case_line(c))

        ctx.out(cases, human)

    run(ctx, go)


@support.command("reply")
@click.argument("key", callback=lambda c, p, v: _key(v))
@click.option("--body", "-m", help="The reply; `-` (or nothing, with text piped in) reads standard input.")
@click.option("--internal", is_flag=True, help="An internal note instead of a public reply.")
@json_option
@wait_option
def support_reply(key, body, internal, as_json, no_wait):
    """Reply to a case (or add an internal note)."""
    ctx = Context(as_json, wait=not no_wait)

    def go():
        text = _text(body)
        if text is None:
            if sys.stdin.isatty():
                raise APIError("Give the reply with --body TEXT (or --body - to read it from standard input).",
                               exit_code=INVALID)  # fmt: skip
            text = sys.stdin.read()
        case = ctx.client().post(f"cases/{key}/replies/", {"body": text, "internal": internal})
        ctx.out(case, lambda c: click.echo(f"{'Note added to' if internal else 'Replied on'} {c['key']}."))

    run(ctx, go)


if __name__ == "__main__":  # python -m companyos_cli.main
    main()


@support.command("inspect")
@click.argument("bundle", type=click.Path(dir_okay=False))
@click.option("--reported-at", help="When the customer saw the problem (ISO 8601); default: the bundle's own.")
@json_option
def support_inspect(bundle, reported_at, as_json):
    """Inspect a trace-<timestamp>-<channel>.zip offline (no server): safety, redaction, trends, failed
    spans. Exit 0 valid and redacted, 5 rejected, 9 unredacted personal data or secrets."""
    from .bundle import EXIT_CODES, inspect_bundle, render_text
    from .bundle.summaries import parse_time

    when = parse_time(reported_at) if reported_at else None
    if reported_at and when is None:
        err(f"error: --reported-at: {reported_at!r} is not an ISO 8601 time.")
        sys.exit(2)
    report = inspect_bundle(bundle, reported_at=when)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(render_text(report))
    sys.exit(EXIT_CODES[report["verdict"]])


def _attach_bundle(client: Client, key: str, filename: str, *, show_bar: bool, wait_seconds: int) -> dict:
    """Upload a trace bundle to the case (checked offline first: a bundle the inspector refuses, or one
    carrying unredacted personal data, is not sent), then wait for the console's verdict."""
    import time

    from .bundle import inspect_bundle, parse_bundle_name
    from .bundle.naming import EXAMPLE

    name = os.path.basename(filename)
    if parse_bundle_name(name) is None:
        raise APIError(f"{name}: a trace bundle is named trace-<timestamp>-<channel>.zip (e.g. {EXAMPLE}).",
                       exit_code=INVALID)  # fmt: skip
    local = inspect_bundle(filename)
    if local["verdict"] == "rejected":
        raise APIError(f"{name} was not sent: {local['rejection']['reason']}", exit_code=INVALID)
    if local["verdict"] == "pii":
        raise APIError(f"{name} was not sent: it carries {local['pii']['count']} unredacted finding(s); "
                       f"run `companyos support inspect {name}` for where.", exit_code=9)  # fmt: skip
    size = os.path.getsize(filename)
    with (
        open(filename, "rb") as file,
        click.progressbar(length=size, label=f"Uploading {name}", file=sys.stderr, hidden=not show_bar) as bar,
    ):
        bundle = client.request(
            "POST", f"cases/{key}/trace-bundles/", files={"file": (name, _Progress(file, bar))},
            rewind=lambda: file.seek(0),
        )  # fmt: skip
    deadline = time.monotonic() + wait_seconds
    while bundle["status"] in ("received", "inspecting") and time.monotonic() < deadline:
        time.sleep(1)
        bundle = client.get(f"trace-bundles/{bundle['id']}/")
    return bundle


def _print_bundle(b: dict) -> None:
    click.echo(f"{b['case']}: {b['name']} — {b['status']} ({b['reference']})")
    if b.get("rejection_reason"):
        click.echo(f"  {b['rejection_reason']}")
    summary = b.get("summary")
    if summary:
        click.echo(f"  {summary['spans']:,} spans, {summary['failed']:,} failed: {', '.join(summary['failed_spans'])}")
        if summary["error_codes"]:
            click.echo(f"  error codes: {', '.join(summary['error_codes'])}")


@support.command("attach")
@click.argument("key", callback=lambda c, p, v: _key(v))
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False))
@click.option("--wait", "wait_seconds", type=int, default=60, show_default=True,
              help="Seconds to wait for the console's inspection (0: do not wait).")  # fmt: skip
@json_option
@wait_option
def support_attach(key, bundle, wait_seconds, as_json, no_wait):
    """Attach a trace-<timestamp>-<channel>.zip to a case: checked offline, uploaded, inspected by the
    console (exit 5 when it is refused, 9 when it carries unredacted personal data)."""
    ctx = Context(as_json, wait=not no_wait)

    def go():
        result = _attach_bundle(ctx.client(), key, bundle, show_bar=not as_json, wait_seconds=wait_seconds)
        ctx.out(result, _print_bundle)
        if result["status"] == "rejected":
            sys.exit(5)
        if result["status"] == "pii":
            sys.exit(9)

    run(ctx, go)
