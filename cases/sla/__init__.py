"""The SLA engine of the cases app (same app label, `cases`).

Where things are:
    calendar.py   pure business-time arithmetic: Calendar, add, elapsed, next_open (no ORM)
    presets.py    the seeds' SLA tables as data (pure)
    models.py     BusinessCalendar, SLAPolicy, SLAPolicyRule, SLAClock, SLAEscalation, Notification
    clocks.py     the clock rules: what each case event does to a case's clocks (writes SLAClock only)
    sweep.py      the beat sweep: at-risk and breach marking, escalations exactly once, the outbox
    actions.py    breach actions by policy escalation (a registry: page on-call, raise, reassign)
    services.py   writes of SLA configuration: policies, calendars, rules, presets, re-apply
    selectors.py  reads for the pages: clock rows, explanations, previews, the admin's lookups
    reports/      the manager dashboard's read model (attainment, breaches, MTTA/MTTR, trend, CSV)
    forms/        admin forms (policies and presets, rules, calendars)
    views/        admin.py (policies, rules, calendars) and dashboard.py (the manager's dashboard)
    urls.py       /sla/
"""
