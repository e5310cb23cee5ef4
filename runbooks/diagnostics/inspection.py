"""The console's bundle inspection: `companyos_cli.bundle.inspect_bundle` with the error-code
catalogue (meaning, remediation, the linked runbook) for the codes its spans carry."""

from __future__ import annotations

from django.urls import reverse

from companyos_cli.bundle import Limits, inspect_bundle

from ..models import ErrorCode


def explain_codes(codes: list[str]) -> dict[str, dict]:
    """Catalogue entries for `codes`, keyed by code; one query."""
    out = {}
    for entry in ErrorCode.objects.filter(code__in=codes[:200]).select_related("runbook"):
        runbook = entry.runbook
        out[entry.code] = {
            "title": entry.title,
            "meaning": entry.meaning,
            "remediation": entry.remediation,
            "runbook": (
                {"slug": runbook.slug, "title": runbook.title, "url": reverse("runbooks:detail", args=[runbook.slug])}
                if runbook
                else None
            ),
        }
    return out


def inspect(source, *, name=None, reported_at=None, progress=None, limits: Limits | None = None) -> dict:
    return inspect_bundle(
        source, name=name, reported_at=reported_at, explain=explain_codes, progress=progress, limits=limits
    )
