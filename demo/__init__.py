"""Demo data and benchmarks, kept apart from the domain apps (which hold no benchmark code or DDL).
The top layer: it imports every app below it and nothing imports it.

    world      the demo world: teams, tenants, requesters, resources, users of every role, grants,
               profiles, tags, saved views (build_demo_world → World); reset_demo; the logins table
    tickets    what customers write: the ticket catalogue and draft_ticket (pure, no database)
    timelines  realistic cases with full timelines, partly through cases.services, back-dated, and
               their SLA clocks replayed (plan_case, realistic_cases)
    bulk_load  many cases fast for benchmarks: COPY on PostgreSQL with the index drop/rebuild
               (bulk_cases), and ensure_cases, which tops the case table up choosing the path
    telemetry  demo telemetry for the tenant consoles (build_demo_telemetry) and demo incidents

Management commands (demo/management/commands/): seed_demo, bench_queue, bench_sla, bench_console,
bench_ingest. The shared percentile helper of the benches is companyos.bench.
"""
