"""The manager reports (/reports/): volume, backlog age, reopen rate, closings, MTTA/MTTR by team
and agent, time distributions, CSAT/NPS and top themes, each as a chart with its table, a CSV of
that table and a drill-down from every number to the queue.

    filters   the shared filter bar (ReportFilterForm: every value in the URL) and the cohort it
              selects: the cases created in the range, through the queue's own parameters
    metrics   the aggregate queries (a fixed number per page) and the Table/Row data every view reads
    views     the page (full or the #results partial), the CSV of one table
    sections  the extension point the higher apps register their sections through
    weekly    the weekly operations report (the one weekly builder) and its Monday export
              (export_models.WeeklyExport); weekly_views its page and downloads

SLA attainment is the SLA dashboard's (/sla/), linked with the same filters, not computed twice.
"""
