"""The panel's extension point: sections a higher app adds above the contact form.

The knowledge-base issue registers its search here from `runbooks`' `AppConfig.ready()`:

    from cases.channels.widget.extensions import register_panel_section
    register_panel_section("knowledge", knowledge_search_section)

A provider is called as `provider(request, tenant=…, context=…)` (the tenant and the verified
`tenants.widget.WidgetContext`) and returns `(template_name, template_context)` to include in the
panel, or None to show nothing. Its template may load its partials by URL (`hx-get`, connect-src
'self' allows it). With no provider registered the panel is the contact form alone.
"""

from __future__ import annotations

from collections.abc import Callable

_sections: dict[str, Callable] = {}


def register_panel_section(name: str, provider: Callable) -> None:
    _sections[name] = provider


def panel_sections(request, *, tenant, context) -> list[dict]:
    sections = []
    for name, provider in _sections.items():
        found = provider(request, tenant=tenant, context=context)
        if found is not None:
            template, extra = found
            sections.append({"name": name, "template": template, "context": extra})
    return sections
