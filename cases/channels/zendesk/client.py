"""The subset of the Zendesk Support API the sync speaks, over httpx: tickets (create, update,
show, look-up by external_id), ticket comments, users (show) and the incremental ticket export.

Failures are raised as `ZendeskError` with a `kind` the relay acts on:
`unreachable` (nothing reached Zendesk: connection refused, DNS), `rate_limited` (429, with
`retry_after` seconds), `timeout` and `server` (5xx) — the request may have been applied — and
`client` (another 4xx: this request is wrong and will stay wrong).
"""

from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass

import httpx
from django.conf import settings


class ZendeskError(Exception):
    def __init__(self, kind: str, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.kind, self.status, self.retry_after = kind, status, retry_after

    @property
    def maybe_applied(self) -> bool:
        return self.kind in ("timeout", "server")


def parse_retry_after(value: str | None, *, default: float = 60.0) -> float:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


@dataclass
class Connection:
    base_url: str
    email: str
    token: str
    timeout: float = 10.0

    @classmethod
    def from_settings(cls) -> Connection | None:
        if not (settings.ZENDESK_BASE_URL and settings.ZENDESK_API_TOKEN):
            return None
        return cls(
            settings.ZENDESK_BASE_URL.rstrip("/"),
            settings.ZENDESK_EMAIL,
            settings.ZENDESK_API_TOKEN,
            settings.ZENDESK_TIMEOUT_SECONDS,
        )


class ZendeskClient:
    def __init__(self, connection: Connection, *, transport: httpx.BaseTransport | None = None):
        self.connection = connection
        self.http = httpx.Client(
            base_url=connection.base_url,
            auth=(f"{connection.email}/token", connection.token),
            timeout=httpx.Timeout(connection.timeout),
            headers={"Accept": "application/json", "User-Agent": "CompanyOS-Support-Console"},
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- transport --------------------------------------------------------------------------------

    def _call(self, method: str, path: str, *, json: dict | None = None, params=None, headers=None) -> dict:
        try:
            response = self.http.request(method, path, json=json, params=params, headers=headers)
        except httpx.TimeoutException as error:
            # A connect timeout never reached Zendesk; a read timeout may have been applied.
            kind = "unreachable" if isinstance(error, httpx.ConnectTimeout) else "timeout"
            raise ZendeskError(kind, f"{type(error).__name__}: {error}") from error
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.NetworkError) as error:
            kind = "unreachable" if isinstance(error, httpx.ConnectError) else "timeout"
            raise ZendeskError(kind, f"{type(error).__name__}: {error}") from error
        status = response.status_code
        if status == 429:
            raise ZendeskError(
                "rate_limited",
                "429 Too Many Requests",
                status=429,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status >= 500:
            raise ZendeskError("server", f"{status}: {response.text[:300]}", status=status)
        if status >= 400:
            raise ZendeskError("client", f"{status}: {response.text[:300]}", status=status)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as error:
            raise ZendeskError("server", f"{status}: not JSON: {response.text[:200]}", status=status) from error

    # --- tickets ------------------------------------------------------------------------------------

    def create_ticket(self, ticket: dict, *, idempotency_key: str) -> dict:
        """POST /api/v2/tickets.json; Zendesk answers a retried create with the same key with the
        ticket it made the first time."""
        return self._call(
            "POST", "/api/v2/tickets.json", json={"ticket": ticket}, headers={"Idempotency-Key": idempotency_key}
        )

    def find_by_external_id(self, external_id: str) -> dict | None:
        data = self._call("GET", "/api/v2/tickets.json", params={"external_id": external_id})
        tickets = data.get("tickets") or []
        return tickets[0] if tickets else None

    def update_ticket(self, ticket_id: int, ticket: dict) -> dict:
        return self._call("PUT", f"/api/v2/tickets/{int(ticket_id)}.json", json={"ticket": ticket})

    def show_ticket(self, ticket_id: int) -> dict:
        return self._call("GET", f"/api/v2/tickets/{int(ticket_id)}.json")["ticket"]

    def list_comments(self, ticket_id: int, *, newest_first: bool = False, pages: int | None = None) -> list[dict]:
        """A ticket's comments (cursor pagination, 100 a page), oldest first unless `newest_first`."""
        params = {"page[size]": 100, "sort": "-created_at" if newest_first else "created_at"}
        path, comments, page = f"/api/v2/tickets/{int(ticket_id)}/comments.json", [], 0
        while True:
            data = self._call("GET", path, params=params)
            comments.extend(data.get("comments") or [])
            page += 1
            meta = data.get("meta") or {}
            if not meta.get("has_more") or (pages is not None and page >= pages):
                return comments
            params = {"page[size]": 100, "page[after]": meta.get("after_cursor"), "sort": params["sort"]}

    def show_user(self, user_id: int) -> dict:
        return self._call("GET", f"/api/v2/users/{int(user_id)}.json")["user"]

    def incremental_tickets(self, *, cursor: str = "", start_time: int | None = None) -> dict:
        """One page of /api/v2/incremental/tickets/cursor.json: `tickets`, `after_cursor`, `end_of_stream`."""
        params = {"cursor": cursor} if cursor else {"start_time": int(start_time or 0)}
        return self._call("GET", "/api/v2/incremental/tickets/cursor.json", params=params)


def client_from_settings() -> ZendeskClient | None:
    connection = Connection.from_settings()
    return ZendeskClient(connection) if connection else None
