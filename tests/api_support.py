"""Helpers of the REST API tests: tokens of both kinds and a client that sends them."""

from __future__ import annotations

import json

from django.test import Client

from companyos.api import tokens
from tenants import ingest


def personal_token(user, *, scope="write", name="test token", days=30) -> str:
    return tokens.token_create(user=user, name=name, scope=scope, expires_in_days=days)[1]


def integration_token(actor, tenants, *, name="Acme backend") -> str:
    return ingest.integration_create(name=name, actor=actor, tenant_ids=[t.pk for t in tenants])[1]


class API:
    """A test client that sends `Authorization: Bearer <token>` and JSON bodies."""

    def __init__(self, token: str | None):
        self.client = Client(raise_request_exception=True)
        self.token = token

    def headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **(extra or {})}

    def get(self, path, params=None, headers=None):
        return self.client.get(path, params or {}, headers=self.headers(headers))

    def post(self, path, body=None, *, raw: bytes | None = None, content_type="application/json", headers=None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.generic("POST", path, data, content_type=content_type, headers=self.headers(headers))

    def patch(self, path, body, headers=None):
        return self.client.generic(
            "PATCH", path, json.dumps(body), content_type="application/json", headers=self.headers(headers)
        )

    def upload(self, path, name: str, content: bytes, headers=None):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return self.client.post(path, {"file": SimpleUploadedFile(name, content)}, headers=self.headers(headers))
