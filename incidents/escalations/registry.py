"""What the escalations register at start-up (IncidentsConfig.ready()): their audit, the closing
listener of the feedback emissions, their report section."""


def register() -> None:
    from auditlog.registry import auditlog

    from . import report_sections
    from .models import Component, EngineeringTask, EngineeringTaskEntry, ProductFeedback

    auditlog.register(Component)
    auditlog.register(EngineeringTask)
    auditlog.register(EngineeringTaskEntry)
    auditlog.register(ProductFeedback)
    from cases.changes import register_change_listener

    from . import emissions

    register_change_listener(emissions.on_change)  # a closing feeds the reliability / product / docs backlog
    report_sections.register()  # /reports/ and the weekly report: escalations and the rejection rate
