"""On-call and paging of the incidents app (same app label, `incidents`).

Where things are:
    rotation.py   pure rotation arithmetic: layers, overrides, the final result, hand-offs (no ORM)
    models.py     Schedule, ScheduleLayer, LayerParticipant, ScheduleOverride, EscalationChain,
                  EscalationStep, Page, PageStep (the exactly-once step timer), PageNotice (a
                  delivery and its one-time acknowledge link), PageEntry (the page's timeline)
    services.py   writes: schedules, layers, overrides, chains, pages (open, acknowledge, resolve)
    sweep.py      the beat sweep: due page steps, exactly once per step, notifications via the outbox
    selectors.py  reads: who is on call now / next, the 4-week timeline, open pages
    ical.py       the iCal feeds (per schedule, per person)
    links.py      signed one-time acknowledge links
    sla.py        the SLA engine's "page on-call" breach action (registered in IncidentsConfig.ready)
    intake.py     a critical or security-tagged case pages on-call when it is created
    views.py      /oncall/: schedules, a schedule, feeds, pages, acknowledge
"""
