"""Slack on the wire: the Web API (`chat.postMessage` with the bot token), incoming webhooks and
`response_url` answers, through `slack_sdk`, with its retries off: a failure is raised as a
`SlackSendError` saying whether a retry makes sense and when (429 `Retry-After`), and the outbox that
called decides (cases.sla.sweep for notifications, the reply relay for thread replies).

Configuration (settings): `SLACK_BOT_TOKEN`, `SLACK_API_URL` (default https://slack.com/api/; tests
point it at a local server), `SLACK_RESPONSE_URL_HOSTS` (hosts a `response_url` may name).
"""

from __future__ import annotations

import logging
from urllib.error import URLError
from urllib.parse import urlsplit

from django.conf import settings
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from ..outbound import PermanentFailure

log = logging.getLogger(__name__)

# Web API errors worth another try; every other `ok: false` (channel_not_found, not_in_channel,
# invalid_auth, is_archived, msg_too_long, …) fails the same way each time.
RETRYABLE_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
TIMEOUT = 10


class SlackSendError(RuntimeError):
    """A Slack call that failed. `retryable`: another try may succeed; `retry_after`: seconds Slack
    asked us to wait (429), or None; `error`: Slack's error code (`channel_not_found`) or the status.
    A failure no retry can fix is a `SlackPermanentError`, which is also the reply outbox's
    `PermanentFailure`."""

    retryable = True

    def __init__(self, message: str, *, error: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.error = error
        self.retry_after = retry_after


class SlackPermanentError(SlackSendError, PermanentFailure):
    retryable = False


def _error(message: str, *, error: str = "", retryable: bool = True, retry_after: float | None = None):
    cls = SlackSendError if retryable else SlackPermanentError
    return cls(message, error=error, retry_after=retry_after)


def _retry_after(headers) -> float | None:
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(value), 0.0) if value is not None else None
    except (TypeError, ValueError):
        return None


def web_client(token: str | None = None) -> WebClient:
    base = settings.SLACK_API_URL
    return WebClient(
        token=token or settings.SLACK_BOT_TOKEN,
        base_url=base if base.endswith("/") else base + "/",
        timeout=TIMEOUT,
        retry_handlers=[],
    )


def post_message(*, channel: str, text: str, thread_ts: str = "", blocks: list | None = None) -> dict:
    """`chat.postMessage` into `channel` (a reply in the thread `thread_ts` when given). Returns
    Slack's answer (`{"ok": true, "ts": …, "channel": …}`); raises SlackSendError."""
    if not settings.SLACK_BOT_TOKEN:
        raise SlackPermanentError("No Slack bot token is configured (SLACK_BOT_TOKEN).", error="no_token")
    kwargs = {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    if blocks:
        kwargs["blocks"] = blocks
    try:
        response = web_client().chat_postMessage(**kwargs)
    except SlackApiError as error:
        status = error.response.status_code
        code = (error.response.data or {}).get("error", "") if isinstance(error.response.data, dict) else ""
        if status == 429:
            raise SlackSendError(
                "Slack rate-limited chat.postMessage (429).",
                error=code or "ratelimited",
                retry_after=_retry_after(error.response.headers),
            ) from None
        raise _error(
            f"chat.postMessage failed: {code or status}",
            error=code or str(status),
            retryable=status >= 500 or code in RETRYABLE_ERRORS,
        ) from None
    except (SlackRequestError, URLError, OSError) as error:
        raise SlackSendError(f"Slack could not be reached: {error}", error="unreachable") from None
    return dict(response.data)


def post_webhook(url: str, *, text: str, blocks: list | None = None) -> None:
    """POST an incoming-webhook message (`{"text", "blocks"}`), answered 200 `ok`."""
    _post_hook(url, {"text": text, **({"blocks": blocks} if blocks else {})})


def _post_hook(url: str, body: dict) -> None:
    try:
        response = WebhookClient(url, timeout=TIMEOUT).send_dict(body)
    except (URLError, OSError) as error:
        raise SlackSendError(f"Slack webhook could not be reached: {error}", error="unreachable") from None
    if response.status_code == 429:
        raise SlackSendError(
            "Slack rate-limited the webhook (429).", error="ratelimited", retry_after=_retry_after(response.headers)
        )
    if response.status_code != 200:
        raise _error(
            f"Slack answered {response.status_code}: {(response.body or '')[:200]}",
            error=(response.body or str(response.status_code))[:100],
            retryable=response.status_code >= 500,
        )


def response_url_allowed(url: str) -> bool:
    """A `response_url` from a payload is only followed to Slack's own hosts (configurable)."""
    parts = urlsplit(url or "")
    allowed = settings.SLACK_RESPONSE_URL_HOSTS
    return (
        parts.scheme in ("https", "http")
        and parts.hostname is not None
        and (parts.hostname in allowed or f"{parts.hostname}:{parts.port}" in allowed)
    )


def post_response(url: str, message: dict) -> None:
    """Answer an interaction later through its `response_url` (ephemeral by default)."""
    if not response_url_allowed(url):
        log.warning("Slack response_url to an unexpected host refused: %s", urlsplit(url or "").hostname)
        return
    _post_hook(url, {"response_type": "ephemeral", **message})
