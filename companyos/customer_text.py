"""The one template engine for text a customer reads (incident updates, macros, survey and
closure messages): Jinja2's SandboxedEnvironment, so an author's template can use only the
variables it is given — no attribute access, no method calls, no imports, no Django internals —
and a misspelt or unknown variable is a clear error, never an empty hole in a message to a customer.

    render(template, variables)   # -> str; raises CustomerTextError with a message fit to show
    check(template, allowed)      # -> None; the same errors, before anything is rendered
    variables_in(template)        # -> the names a template uses

Variables are plain values (strings, numbers, dates, lists/dicts of those); objects passed in are
refused, so a model instance can never leak through `{{ case.tenant.secret }}`. Output is plain
text (the channels escape it for HTML themselves); templates are limited to TEMPLATE_MAX_CHARS.

Plumbing: imports no app.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

TEMPLATE_MAX_CHARS = 20_000
PLAIN = (str, int, float, bool, Decimal, dt.date, dt.datetime, dt.timedelta, type(None))


class CustomerTextError(ValueError):
    """A template that cannot be rendered: the message says where and why, fit to show its author."""


class _Environment(ImmutableSandboxedEnvironment):
    def is_safe_attribute(self, obj, attr, value):
        # Only keys of dicts (item access is handled by getitem); no attribute of anything.
        return False

    def is_safe_callable(self, obj):
        return False


_env = _Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def _plain(value, path: str):
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{path}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"customer text variable {path!r} must be a plain value, not {type(value).__name__}")


def _parse(template: str):
    if len(template) > TEMPLATE_MAX_CHARS:
        raise CustomerTextError(
            f"The template is too long ({len(template):,} characters; at most {TEMPLATE_MAX_CHARS:,})."
        )
    try:
        return _env.parse(template)
    except TemplateSyntaxError as error:
        raise CustomerTextError(f"Template error on line {error.lineno}: {error.message}.") from None


def variables_in(template: str) -> set[str]:
    return meta.find_undeclared_variables(_parse(template))


def check(template: str, allowed) -> None:
    """Refuse a template that does not parse or names a variable outside `allowed`."""
    unknown = sorted(variables_in(template) - set(allowed))
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise CustomerTextError(f"Unknown variable {', '.join(unknown)}. Available: {known}.")


def render(template: str, variables: dict) -> str:
    """Render `template` with `variables` (plain values only)."""
    _parse(template)
    values = {str(k): _plain(v, str(k)) for k, v in variables.items()}
    check(template, values)
    try:
        return _env.from_string(template).render(values)
    except UndefinedError as error:  # e.g. a missing key of a dict variable
        raise CustomerTextError(f"Unknown value: {error.message}.") from None
    except SecurityError as error:
        raise CustomerTextError(f"Not allowed in a template: {error}.") from None
    except TemplateSyntaxError as error:
        raise CustomerTextError(f"Template error on line {error.lineno}: {error.message}.") from None
    except (TypeError, ValueError, ArithmeticError) as error:
        raise CustomerTextError(f"The template could not be rendered: {error}.") from None
