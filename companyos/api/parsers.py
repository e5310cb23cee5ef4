"""Request bodies of the REST API: JSON up to API_MAX_JSON_BYTES (413 past it, checked on the declared
length and on what is read), every object's keys unique, no lone UTF-16 surrogate (PostgreSQL cannot
store one), not UTF-8 → 400; multipart (file uploads) up to ATTACHMENT_MAX_BYTES plus the form's
overhead (413 past it)."""

from __future__ import annotations

import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, MultiPartParser

from .problems import PayloadTooLarge

LONE_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
MULTIPART_OVERHEAD = 64 * 1024


def _declared_length(parser_context) -> int | None:
    request = (parser_context or {}).get("request")
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    if not declared:
        return None
    try:
        return int(declared)
    except ValueError:
        raise ParseError("Content-Length is not a number.") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _unique_keys(pairs):
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ParseError(f"Malformed JSON: the key {twice!r} appears more than once in one object.")
    return data


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_JSON_BYTES
        too_large = f"The request body is over the limit of {limit:,} bytes."
        declared = _declared_length(parser_context)
        if declared is not None and declared > limit:
            raise PayloadTooLarge(too_large)
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(too_large)
        if not body.strip():
            raise ParseError("The request body is empty: send a JSON object.")
        try:
            data = json.loads(body, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
        except UnicodeDecodeError:
            raise ParseError("The body is not UTF-8 JSON.") from None
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"Malformed JSON: {exc}") from None
        if LONE_SURROGATE_ESCAPE.search(body):
            try:
                json.dumps(data, ensure_ascii=False).encode()
            except UnicodeEncodeError:
                raise ParseError("Malformed JSON: a string contains an unpaired UTF-16 surrogate escape.") from None
        return data


class LimitedMultiPartParser(MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD
        declared = _declared_length(parser_context)
        if declared is not None and declared > limit:
            raise PayloadTooLarge(
                f"The upload is over the attachment limit of {settings.ATTACHMENT_MAX_BYTES / 1048576:.0f} MB."
            )
        try:
            return super().parse(stream, media_type, parser_context)
        except UnicodeDecodeError:
            raise ParseError("A form field is not UTF-8.") from None
