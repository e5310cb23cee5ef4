"""Escalations out of support (issue 14 points 6–10), a package of the incidents app.

models.py     Component (the ownership map), EngineeringTask with its timeline entries and the
              cadence clock's exactly-once marks (imported by incidents.models: the `incidents`
              app's models)
choices.py    task statuses and their transitions, the update cadence presets (seed 003)
handoff.py    seed 002's eight handoff items, prefilled from a case (reads only)
services.py   every write: escalate, accept / ask for info / reject / update / resolve, answer,
              the cadence sweep (beat), the on-call notification (the component's on-call
              schedule's person now, else the team), a component's on-call schedule
shifts.py     the shift handoff report (page, e-mail on the outbox at each shift change)
handoff_sections.py  the handoff report's extension point (runbooks: known issues)
selectors.py  the reads: tasks visible to a user, the case's tasks, the rejection rate, the backlogs,
              the week's emissions / components / product feedback / SRE, the backlog exports
views.py urls.py   /incidents/escalations/…: the list, a task, the case page's panel, the form, the
              backlog pages and their CSV/JSON exports; the old weekly ops review addresses redirect
              to the weekly operations report (/reports/weekly/)
report_sections.py the rejection rate on /reports/ and in the weekly report; the weekly report's
              backlog, component, product feedback and SRE sections
"""
