"""Demo data and benchmarks, kept apart from the domain apps (which hold no benchmark code or DDL).
The top layer: it imports every app below it and nothing imports it.

    catalog    the static description of the demo world (plain data, no database): teams, users and
               their roles, tenant specs (TenantSpec, TENANTS), grants, tags, entitlements per tier,
               resource kinds, requester roles, saved views, the demo password
    world      the demo world built from the catalogue: teams, tenants, requesters, resources, users
               of every role, grants, profiles, tags, saved views (build_demo_world → World);
               reset_demo; the logins table
    tickets    what customers write: the ticket catalogue, fill and draft_ticket (pure, no database)
    replies    what is written once a case is open: agents' acknowledgements, questions, notes and
               resolutions, customers' follow-ups and confirmations (pure data, no database)
    planning   a realistic case's timeline planned from the world before anything is written
               (plan_case → CasePlan of Steps; reads the World only)
    timelines  realistic cases written from their plans, partly through cases.services, back-dated,
               and their SLA clocks replayed (realistic_cases)
    bulk_load  many cases fast for benchmarks: COPY on PostgreSQL with the index drop/rebuild
               (bulk_cases), and ensure_cases, which tops the case table up choosing the path
    telemetry  demo telemetry for the tenant consoles (build_demo_telemetry) and demo incidents

Management commands (demo/management/commands/): seed_demo, bench_queue, bench_sla, bench_console,
bench_ingest. The shared percentile helper of the benches is companyos.bench.
"""
