"""drf-spectacular hooks: the schema holds the REST resources (views built on APIBase; the telemetry
ingestion API documents itself at GET /api/v1/telemetry/), and every operation lists the problem
answers it can give (application/problem+json)."""

from __future__ import annotations

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}
COMMON = {
    "400": "Invalid request: `errors` lists every invalid field",
    "401": "No token, or an unknown, expired or revoked one",
    "403": "The token's scope does not allow this",
    "404": "No such object, or outside the token's tenants",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "429": "Rate limited: retry after the Retry-After header's seconds",
}
WRITE = {
    "409": "Conflict: the case changed since you read it (expected_status or version)",
    "422": "The Idempotency-Key was used for another request",
}


def only_resources(endpoints):
    from .views import APIBase

    return [
        (path, regex, method, callback)
        for path, regex, method, callback in endpoints
        if isinstance(getattr(callback, "cls", None), type) and issubclass(callback.cls, APIBase)
    ]


def problem_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = dict(COMMON)
            if method in ("post", "put", "patch", "delete"):
                codes.update(WRITE)
            for code, text in codes.items():
                operation["responses"].setdefault(
                    code,
                    {
                        "description": text,
                        "content": {"application/problem+json": {"schema": ref}},
                        **({"headers": {"Retry-After": {"schema": {"type": "integer"}}}} if code == "429" else {}),
                    },
                )
    return result
