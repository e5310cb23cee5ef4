"""The refusals of the case services; `str(error)` is the message the user sees."""

from __future__ import annotations

from .choices import TRANSITIONS, Status

__all__ = ["CaseError", "InvalidTransition", "CaseConflict", "NotPermitted"]


class CaseError(Exception):
    """A refused write; `str(error)` is the message the user sees."""


class InvalidTransition(CaseError):
    def __init__(self, case, to: str):
        allowed = ", ".join(Status(s).label for s in TRANSITIONS.get(case.status, [])) or "none"
        super().__init__(
            f"{case.key} cannot move from {Status(case.status).label} to {Status(to).label}. "
            f"Allowed from {Status(case.status).label}: {allowed}."
        )


class CaseConflict(CaseError):
    """Someone else changed the case between the user's page load and their action."""


class NotPermitted(CaseError):
    pass
