"""What the escalations register at start-up (IncidentsConfig.ready()): their audit, their report
section."""


def register() -> None:
    from auditlog.registry import auditlog

    from . import report_sections
    from .models import Component, EngineeringTask, EngineeringTaskEntry

    auditlog.register(Component)
    auditlog.register(EngineeringTask)
    auditlog.register(EngineeringTaskEntry)
    report_sections.register()  # /reports/ and the weekly report: escalations and the rejection rate
