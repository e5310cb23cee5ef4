"""`python manage.py widget_demo --tenant acme --console http://localhost:8000` — try the in-app widget by hand.

Turns on the widget of a demo integration (for the tenant, allowing the demo host page's origin),
signs a context for a contact of the tenant, and serves a small product page embedding widget.js on
127.0.0.1:<port> (another origin than the console) until Ctrl-C. Demo only: it prints the secret.
"""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand, CommandError

from companyos.roles import system_user
from tenants import ingest, services
from tenants.models import Integration, Tenant
from tenants.widget import sign_context

NAME = "Demo product (widget)"
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{tenant} · Demo product</title></head>
<body><h1>{tenant} — demo product page</h1><p>Something failed: ERR-DEMO-5XX (trace below).</p>
<script src="{console}/static/widget/widget.js" data-tenant-context="{context}" data-app-version="demo-1.0"
        data-error-ids="ERR-DEMO-5XX" data-trace-links="https://traces.example.com/t/demo" defer></script>
</body></html>"""


class Command(BaseCommand):
    help = "Serve a demo product page embedding the in-app help widget (for trying it by hand)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", default="acme", help="Tenant slug")
        parser.add_argument("--email", default="demo.visitor@example.com")
        parser.add_argument("--console", default="http://localhost:8000", help="The console's origin")
        parser.add_argument("--port", type=int, default=8123)

    def handle(self, *args, **opts):
        tenant = Tenant.objects.filter(slug=opts["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant {opts['tenant']!r} (run seed_demo first, or pass --tenant).")
        origin = f"http://127.0.0.1:{opts['port']}"
        actor = system_user()
        integration = Integration.objects.filter(name=NAME).first()
        if integration is None:
            integration, _ = ingest.integration_create(name=NAME, actor=actor, tenant_ids=[tenant.pk])
        elif not integration.tenants.filter(pk=tenant.pk).exists():
            ingest.integration_update(
                integration_id=integration.pk,
                actor=actor,
                alert_tenant_label=integration.alert_tenant_label,
                alert_service_label=integration.alert_service_label,
                tenant_ids=[*integration.tenants.values_list("pk", flat=True), tenant.pk],
            )
        try:
            config, _ = services.widget_configure(
                integration_id=integration.pk, actor=actor, enabled=True, allowed_origins=[origin]
            )
        except services.WidgetConfigError as exc:
            raise CommandError(str(exc)) from None
        context = sign_context(
            key_id=config.key_id,
            secret=config.secret,
            tenant=tenant.slug,
            email=opts["email"],
            name="Demo Visitor",
            expires_at=int(time.time()) + 3000,
        )
        body = PAGE.format(tenant=tenant.name, console=opts["console"].rstrip("/"), context=context).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.stdout.write(f"Widget key {config.key_id} (secret {config.secret}); the context is valid for 50 min.")
        self.stdout.write(f"Open {origin}/ and click Help. Ctrl-C stops.")
        server = ThreadingHTTPServer(("127.0.0.1", opts["port"]), Handler)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
