"""The customer-facing closure messages: templates of companyos.customer_text (sandboxed, strict),
overridable in settings (CLOSURE_SOLVED_QUESTION_TEXT, CLOSURE_SURVEY_TEXT)."""

from __future__ import annotations

from django.conf import settings

from companyos import customer_text

SOLVED_QUESTION = """Hello {{ name }},

We have resolved {{ key }} ({{ subject }}).
{% if summary %}
What we did: {{ summary }}
{% endif %}
Is this solved for you?

  Yes, it is solved: {{ yes_url }}
  No, it is not solved: {{ no_url }}

You can also simply reply to this message. If we do not hear from you, the case closes
automatically on {{ closes_on }}.
"""

SURVEY = """Hello {{ name }},

{{ key }} ({{ subject }}) is now closed. How did we do? One question, one minute, no sign-in:

  {{ survey_url }}

The link works for {{ days }} days. Thank you.
"""

SOLVED_VARIABLES = {"name", "key", "subject", "summary", "yes_url", "no_url", "closes_on"}
SURVEY_VARIABLES = {"name", "key", "subject", "survey_url", "days"}


def solved_question(variables: dict) -> str:
    return customer_text.render(getattr(settings, "CLOSURE_SOLVED_QUESTION_TEXT", "") or SOLVED_QUESTION, variables)


def survey(variables: dict) -> str:
    return customer_text.render(getattr(settings, "CLOSURE_SURVEY_TEXT", "") or SURVEY, variables)
