"""A fake Zendesk: the subset of the Support API the sync speaks, in memory, with faults on demand.

`FakeZendesk.handle(method, path, query, headers, body)` answers a request as Zendesk would
(tickets create/update/show/list by external_id, comments, users, the incremental ticket export),
so one fake serves both the tests (behind pytest-httpserver, `tests/cases/channels/`) and
`manage.py bench_zendesk` (behind the standard library's threading HTTP server, `serve()`).

Faults: `fail_next(n, status, retry_after=None)` answers the next n requests with that status
(429 with Retry-After, 500…); `apply_then_fail(n)` applies the next n writes and then answers 500
(the response lost after the change was made); `slow_next(n, seconds)` sleeps before answering
(a client timeout). Idempotency-Key on create is honoured like Zendesk's.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def _now_iso(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeZendesk:
    def __init__(self):
        self.lock = threading.RLock()
        self.tickets: dict[int, dict] = {}
        self.comments: dict[int, list[dict]] = {}
        self.users: dict[int, dict] = {}
        self.idempotency: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.ids = itertools.count(1000)
        self.faults: list[tuple] = []  # ("status", code, retry_after) | ("apply_then_fail",) | ("slow", seconds)
        self.clock_offset = 0  # seconds: updated_at of later changes moves on even within one second
        self.agent_id = self._user("api@companyos.example", "CompanyOS API", role="agent")

    # --- faults -----------------------------------------------------------------------------------

    def fail_next(self, n: int, status: int, retry_after: str | None = None) -> None:
        with self.lock:
            self.faults += [("status", status, retry_after)] * n

    def apply_then_fail(self, n: int = 1) -> None:
        with self.lock:
            self.faults += [("apply_then_fail",)] * n

    def slow_next(self, n: int, seconds: float) -> None:
        with self.lock:
            self.faults += [("slow", seconds)] * n

    # --- state helpers (the tests act as a Zendesk agent or requester through these) -----------------

    def _user(self, email: str, name: str = "", role: str = "end-user") -> int:
        for user in self.users.values():
            if user["email"] == email.lower():
                return user["id"]
        uid = next(self.ids)
        self.users[uid] = {"id": uid, "email": email.lower(), "name": name or email, "role": role}
        return uid

    def _stamp(self) -> str:
        self.clock_offset += 1
        return _now_iso(datetime.now(UTC) + timedelta(seconds=self.clock_offset))

    def _audit(self, ticket_id: int, events: list[dict], author_id: int, metadata: dict | None) -> dict:
        audit_id = next(self.ids)
        for event in events:
            if event.get("type") == "Comment":
                event["audit_id"] = audit_id
        return {
            "id": audit_id,
            "ticket_id": ticket_id,
            "author_id": author_id,
            "created_at": _now_iso(),
            "events": events,
            "metadata": {"system": {}, "custom": metadata or {}},
        }

    def _add_comment(self, ticket_id: int, body: str, public: bool, author_id: int, metadata: dict | None) -> dict:
        comment = {
            "id": next(self.ids),
            "type": "Comment",
            "body": body,
            "plain_body": body,
            "public": bool(public),
            "author_id": author_id,
            "created_at": self._stamp(),
            "metadata": {"system": {}, "custom": metadata or {}},
        }
        self.comments.setdefault(ticket_id, []).append(comment)
        return comment

    def agent_comment(self, ticket_id: int, body: str, *, public: bool = True) -> dict:
        """A Zendesk agent comments on the ticket (in Zendesk's UI)."""
        with self.lock:
            comment = self._add_comment(ticket_id, body, public, self.agent_id, None)
            comment["audit_id"] = next(self.ids)
            self.tickets[ticket_id]["updated_at"] = comment["created_at"]
            return comment

    def requester_comment(self, ticket_id: int, body: str) -> dict:
        with self.lock:
            ticket = self.tickets[ticket_id]
            comment = self._add_comment(ticket_id, body, True, ticket["requester_id"], None)
            comment["audit_id"] = next(self.ids)
            ticket["updated_at"] = comment["created_at"]
            if ticket["status"] in ("pending", "hold", "solved"):
                ticket["status"] = "open"  # what Zendesk does when the requester answers
            return comment

    def agent_update(self, ticket_id: int, **fields) -> dict:
        with self.lock:
            ticket = self.tickets[ticket_id]
            if "requester_email" in fields:
                ticket["requester_id"] = self._user(fields.pop("requester_email"))
            ticket.update(fields)
            ticket["updated_at"] = self._stamp()
            return dict(ticket)

    def public_comments(self, ticket_id: int) -> list[str]:
        return [c["body"] for c in self.comments.get(ticket_id, []) if c["public"]]

    # --- the API --------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict, headers: dict, body: bytes) -> tuple[int, dict, bytes]:
        with self.lock:
            self.requests.append((method, path))
            fault = self.faults.pop(0) if self.faults else None
        if fault and fault[0] == "slow":
            time.sleep(fault[1])
            fault = None
        if fault and fault[0] == "status":
            extra = {"Retry-After": fault[2]} if fault[2] is not None else {}
            return fault[1], extra, json.dumps({"error": "fault injected"}).encode()
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return 400, {}, b'{"error": "InvalidJSON"}'
        with self.lock:
            status, answer = self._route(method, path, query, headers, data)
        if fault and fault[0] == "apply_then_fail":
            return 500, {}, b'{"error": "applied, then the answer was lost"}'
        return status, {}, json.dumps(answer).encode()

    def _route(self, method, path, query, headers, data):
        parts = [p for p in path.split("/") if p]
        if parts[:2] != ["api", "v2"]:
            return 404, {"error": "RecordNotFound"}
        parts = parts[2:]
        if parts == ["tickets.json"] and method == "POST":
            return self._create(data.get("ticket") or {}, headers.get("idempotency-key"))
        if parts == ["tickets.json"] and method == "GET":
            ext = (query.get("external_id") or [""])[0]
            return 200, {"tickets": [t for t in self.tickets.values() if ext and t.get("external_id") == ext]}
        if len(parts) == 2 and parts[0] == "tickets" and parts[1].endswith(".json"):
            ticket_id = int(parts[1][:-5])
            if ticket_id not in self.tickets:
                return 404, {"error": "RecordNotFound"}
            if method == "GET":
                return 200, {"ticket": self.tickets[ticket_id]}
            if method == "PUT":
                return self._update(ticket_id, data.get("ticket") or {})
        if len(parts) == 3 and parts[0] == "tickets" and parts[2] == "comments.json":
            return self._comments(int(parts[1]), query)
        if len(parts) == 2 and parts[0] == "users":
            user = self.users.get(int(parts[1][:-5]))
            return (200, {"user": user}) if user else (404, {"error": "RecordNotFound"})
        if parts == ["incremental", "tickets", "cursor.json"]:
            return self._export(query)
        return 404, {"error": "RecordNotFound"}

    def _create(self, payload: dict, key: str | None):
        if key and key in self.idempotency:
            return 201, self.idempotency[key]
        if not payload.get("comment", {}).get("body"):
            return 422, {
                "error": "RecordInvalid",
                "details": {"base": [{"description": "Description: cannot be blank"}]},
            }
        ticket_id = next(self.ids)
        requester = payload.get("requester") or {}
        requester_id = self._user(requester.get("email", "unknown@example.com"), requester.get("name", ""))
        stamp = self._stamp()
        ticket = {
            "id": ticket_id,
            "external_id": payload.get("external_id"),
            "subject": payload.get("subject", ""),
            "status": payload.get("status", "new"),
            "priority": payload.get("priority"),
            "tags": sorted(set(payload.get("tags") or [])),
            "custom_fields": payload.get("custom_fields") or [],
            "requester_id": requester_id,
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.tickets[ticket_id] = ticket
        comment = self._add_comment(
            ticket_id,
            payload["comment"]["body"],
            payload["comment"].get("public", True),
            requester_id,
            payload.get("metadata"),
        )
        audit = self._audit(ticket_id, [dict(comment)], requester_id, payload.get("metadata"))
        comment["audit_id"] = audit["id"]
        answer = {"ticket": dict(ticket), "audit": audit}
        if key:
            self.idempotency[key] = answer
        return 201, answer

    def _update(self, ticket_id: int, payload: dict):
        ticket = self.tickets[ticket_id]
        if ticket["status"] == "closed":
            return 422, {"error": "RecordInvalid", "description": "closed prevents ticket update"}
        events = []
        for name in ("subject", "status", "priority"):
            if name in payload and payload[name] != ticket.get(name):
                events.append({"type": "Change", "field_name": name, "value": payload[name]})
                ticket[name] = payload[name]
        if "tags" in payload:
            ticket["tags"] = sorted(set(payload["tags"]))
        if "custom_fields" in payload:
            ticket["custom_fields"] = payload["custom_fields"]
        if "requester" in payload:
            ticket["requester_id"] = self._user(payload["requester"]["email"], payload["requester"].get("name", ""))
        if payload.get("comment"):
            c = payload["comment"]
            author = c.get("author_id") or self.agent_id
            comment = self._add_comment(ticket_id, c["body"], c.get("public", True), author, payload.get("metadata"))
            events.append(dict(comment))
        ticket["updated_at"] = self._stamp()
        audit = self._audit(ticket_id, events, self.agent_id, payload.get("metadata"))
        for comment in self.comments.get(ticket_id, []):
            if comment.get("audit_id") is None:
                comment["audit_id"] = audit["id"]
        return 200, {"ticket": dict(ticket), "audit": audit}

    def _comments(self, ticket_id: int, query: dict):
        if ticket_id not in self.tickets:
            return 404, {"error": "RecordNotFound"}
        comments = list(self.comments.get(ticket_id, []))
        if (query.get("sort") or [""])[0] == "-created_at":
            comments.reverse()
        size = int((query.get("page[size]") or ["100"])[0])
        start = int((query.get("page[after]") or ["0"])[0] or 0)
        page = comments[start : start + size]
        more = start + size < len(comments)
        return 200, {"comments": page, "meta": {"has_more": more, "after_cursor": str(start + size) if more else None}}

    def _export(self, query: dict):
        """Tickets by updated_at; the cursor is the position after the last one returned."""
        ordered = sorted(self.tickets.values(), key=lambda t: (t["updated_at"], t["id"]))
        if query.get("cursor"):
            after = json.loads(query["cursor"][0])
            ordered = [t for t in ordered if (t["updated_at"], t["id"]) > (after[0], after[1])]
        else:
            start = int((query.get("start_time") or ["0"])[0])
            since = _now_iso(datetime.fromtimestamp(start, UTC))
            ordered = [t for t in ordered if t["updated_at"] >= since]
        page = ordered[:100]
        last = page[-1] if page else None
        cursor = json.dumps([last["updated_at"], last["id"]]) if last else (query.get("cursor") or [""])[0]
        return 200, {"tickets": page, "after_cursor": cursor, "end_of_stream": len(ordered) <= 100}


# --- serving it -------------------------------------------------------------------------------------------


def werkzeug_handler(fake: FakeZendesk):
    """A pytest-httpserver handler (werkzeug Request → Response)."""
    from werkzeug.wrappers import Response

    def handler(request):
        status, headers, body = fake.handle(
            request.method,
            request.path,
            {k: request.args.getlist(k) for k in request.args},
            {k.lower(): v for k, v in request.headers.items()},
            request.get_data(),
        )
        return Response(body, status=status, headers=headers, content_type="application/json")

    return handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms delayed-ACK stalls)
    fake: FakeZendesk

    def _serve(self):
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, answer = self.fake.handle(
            self.command, url.path, parse_qs(url.query), {k.lower(): v for k, v in self.headers.items()}, body
        )
        self.send_response(status)
        for name, value in {**headers, "Content-Type": "application/json", "Content-Length": str(len(answer))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, *args):  # quiet
        pass


def serve(fake: FakeZendesk, port: int = 0) -> ThreadingHTTPServer:
    """Serve `fake` on 127.0.0.1 (a free port unless given) in a daemon thread; `.shutdown()` stops it."""
    handler = type("FakeZendeskHandler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
