"""The CLI's HTTP client for the console's REST API. Every refusal becomes an `APIError` carrying the
exit code of its kind; a 429 waits for Retry-After and retries (unless told not to wait)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx

from . import __version__

AUTH, NOT_FOUND, INVALID, RATE_LIMITED, NETWORK, SERVER, OTHER = 3, 4, 5, 6, 7, 8, 1
MAX_WAIT = 300  # seconds: a longer Retry-After is reported, not waited for
RETRIES = 3


class APIError(Exception):
    def __init__(self, message: str, *, exit_code: int, status: int | None = None, errors=None, retry_after=None):
        super().__init__(message)
        self.exit_code = exit_code
        self.status = status
        self.errors = errors or []
        self.retry_after = retry_after


def exit_code_for(status: int) -> int:
    if status in (401, 403):
        return AUTH
    if status == 404:
        return NOT_FOUND
    if status == 429:
        return RATE_LIMITED
    if status >= 500:
        return SERVER
    if status in (400, 409, 413, 415, 422):
        return INVALID
    return OTHER


def _retry_after(response: httpx.Response) -> int:
    try:
        return max(0, int(float(response.headers.get("Retry-After", "1"))))
    except ValueError:
        return 1


def _error(response: httpx.Response) -> APIError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = body.get("detail") or response.reason_phrase or f"HTTP {response.status_code}"
    return APIError(
        str(detail),
        exit_code=exit_code_for(response.status_code),
        status=response.status_code,
        errors=body.get("errors") if isinstance(body.get("errors"), list) else [],
        retry_after=_retry_after(response) if response.status_code == 429 else None,
    )


class Client:
    def __init__(self, url: str, token: str, *, wait: bool = True, notify: Callable[[str], None] = print):
        if not url:
            raise APIError("No console URL: run `companyos auth login` or set COMPANYOS_URL.", exit_code=AUTH)
        if not token:
            raise APIError("No token: run `companyos auth login` or set COMPANYOS_TOKEN.", exit_code=AUTH)
        if not url.startswith(("http://", "https://")):
            raise APIError(f"The console URL must start with http:// or https:// (got {url!r}).", exit_code=OTHER)
        self.base = url.rstrip("/") + "/api/v1/"
        self.wait = wait
        self.notify = notify
        self.http = httpx.Client(
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"companyos-cli/{__version__}"},
            timeout=httpx.Timeout(30.0, connect=10.0),
        )

    def request(self, method: str, path: str, *, rewind: Callable[[], None] | None = None, **kwargs) -> dict:
        url = self.base + path.lstrip("/")
        for attempt in range(RETRIES + 1):
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                raise APIError(f"Cannot reach {self.base}: {exc}", exit_code=NETWORK) from None
            if response.status_code == 429 and self.wait and attempt < RETRIES:
                delay = _retry_after(response)
                if delay > MAX_WAIT:
                    raise _error(response)
                self.notify(f"Rate limited: retrying in {delay} s (--no-wait to fail instead).")
                time.sleep(delay)
                if rewind is not None:
                    rewind()
                continue
            if response.status_code >= 400:
                raise _error(response)
            try:
                return response.json()
            except ValueError:
                raise APIError(
                    f"The console answered {response.status_code} without JSON (is {self.base} the console?).",
                    exit_code=SERVER,
                ) from None
        raise AssertionError("unreachable")

    def get(self, path: str, params=None) -> dict:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: dict, *, idempotency_key: str | None = None) -> dict:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.request("POST", path, json=body, headers=headers)

    def create_case(self, body: dict) -> dict:
        # One key for the create and its retries: a retry after a lost answer gets the same case.
        return self.post("cases/", body, idempotency_key=str(uuid.uuid4()))

    def upload(self, path: str, name: str, file, rewind: Callable[[], None]) -> dict:
        return self.request("POST", path, files={"file": (name, file)}, rewind=rewind)
