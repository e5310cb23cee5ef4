"""The catalogue's Markdown format, and importing it: idempotent, reporting what changed, a
malformed file refused whole."""

import pytest
from django.core.management import CommandError, call_command

from runbooks import errorcodes, services
from runbooks.models import ErrorCode
from tests.factories import UserFactory

DOC = """# Errors

## X400-E1042 — API key malformed
Meaning: The key has whitespace in it.
More meaning.
Remediation: Copy the key again.
Runbook: auth-401-403-triage

| Code | Title | Meaning | Remediation |
| --- | --- | --- | --- |
| X429-E2001 | Rate limited | Too many requests | Back off |
"""


def test_parse_reads_headings_and_tables():
    parsed = errorcodes.parse(DOC)
    assert parsed.errors == []
    first, second = parsed.entries
    assert (first.code, first.title, first.runbook) == ("X400-E1042", "API key malformed", "auth-401-403-triage")
    assert (
        first.meaning == "The key has whitespace in it.\nMore meaning." and first.remediation == "Copy the key again."
    )
    assert (second.code, second.title, second.remediation) == ("X429-E2001", "Rate limited", "Back off")


def test_parse_names_malformed_rows():
    parsed = errorcodes.parse(
        "| Code | Meaning |\n|---|---|\n| X1-E1 | a | extra |\n| not a code | b |\n\n## X1-E1\n## X1-E1\n"
    )
    assert any("Line 3" in e and "cells" in e for e in parsed.errors)
    assert any("'NOT A CODE'" in e for e in parsed.errors)
    assert any("listed twice" in e for e in parsed.errors)


def test_candidates_in_text():
    assert {"X400-E1042", "ERR_TOKEN"} <= errorcodes.candidates("we get X400-E1042 and ERR_TOKEN. then 500")


@pytest.mark.django_db
def test_import_is_idempotent_and_reports_changes():
    admin = UserFactory(role="admin")
    first = services.error_codes_import(text=DOC, source="errors.md", actor=admin)
    assert first.created == ["X400-E1042", "X429-E2001"] and not first.updated
    assert ErrorCode.objects.get(code="X400-E1042").runbook.slug == "auth-401-403-triage"
    again = services.error_codes_import(text=DOC, source="errors.md", actor=admin)
    assert again.created == [] and again.updated == [] and again.unchanged == ["X400-E1042", "X429-E2001"]
    changed = services.error_codes_import(text=DOC.replace("Back off", "Back off per Retry-After"), actor=admin)
    assert changed.updated == ["X429-E2001"] and changed.unchanged == ["X400-E1042"]


@pytest.mark.django_db
def test_a_malformed_file_is_refused_whole():
    admin = UserFactory(role="admin")
    before = ErrorCode.objects.count()
    with pytest.raises(services.ImportRefused) as refused:
        services.error_codes_import(text=DOC + "| X500-E1 | only two |\n", actor=admin)
    assert "cells" in str(refused.value)
    assert ErrorCode.objects.count() == before


@pytest.mark.django_db
def test_agents_cannot_import():
    agent = UserFactory(role="agent")
    with pytest.raises(services.KnowledgeError):
        services.error_codes_import(text=DOC, actor=agent)


@pytest.mark.django_db
def test_the_command_imports_and_refuses(tmp_path, capsys):
    good = tmp_path / "errors.md"
    good.write_text(DOC)
    call_command("import_error_codes", str(good))
    call_command("import_error_codes", str(good))
    out = capsys.readouterr().out
    assert "2 created" in out and "0 created, 0 updated, 2 unchanged" in out
    bad = tmp_path / "bad.md"
    bad.write_text("## not/a/code\n")
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_error_codes", str(bad))
