"""Closure: resolving with a resolution record, "is this solved?", auto-close, satisfaction surveys.

    rules     the pure rules: resolution fields (required for critical and high), auto-close days,
              low scores, the survey's 24 h edit window (no ORM)
    models    AutoClose (the timer of one resolution, swept by beat) and Closure (one per time a case
              closed: how, and its survey answer); imported by cases.models
    listener  a change listener (cases.changes): a status entry to resolved starts the timer, one
              leaving resolved ends it, one to closed records the Closure; their messages go after commit
    links     the signed, expiring customer links (django.core.signing)
    texts     the customer-facing messages, rendered by companyos.customer_text
    services  ask_if_solved, send_survey, survey_answer (writes of closure rows; the case and its
              timeline only through cases.services)
    sweep     auto_close_sweep: due timers, SKIP LOCKED, exactly once
    selectors what the case page's Closure panel and the tenant console show
    views     the customer pages (/c/…, no sign-in) and the case page's Closure panel

The case row and timeline are written by cases.services only (case_transition with `resolution`
and `closed_how`, case_customer_confirmation, case_reply with `automated`). This package imports
no other app above cases.
"""
