"""Extension points of the tenants app: how the apps above it (cases, incidents) put their data on the
tenant list and the tenant console without tenants importing them. Each higher app registers into
these from its AppConfig.ready(); tenants reads only what is registered.

- Summary columns of the tenant list (`register_summary`): a column name and a function of `now`
  returning an expression over the outer tenant (`OuterRef("pk")`) that `selectors.tenant_list`
  annotates. The list's sorts, its "has breached cases" filter and its template read the two slots
  named below; cases fills them. An unfilled slot reads 0.
- Console panels (`register_panel`): the builder behind a panel the console lays out but does not
  own (Cases, Incidents): `builder(tenant, *, user, params) -> dict` as every panel builder.
- The SLA policy in force for a tenant (`register_policy_lookup`): shown in the console header and
  on the Entitlements panel; cases owns the rule.
"""

from __future__ import annotations

from collections.abc import Callable

OPEN_CASES = "open_cases"
BREACHED_CASES = "breached_cases"
SUMMARY_SLOTS = (OPEN_CASES, BREACHED_CASES)

_summaries: dict[str, Callable] = {}
_panels: dict[str, Callable] = {}
_policy_lookup: list[Callable] = []


def register_summary(name: str, expression: Callable) -> None:
    """`expression(now)` -> a query expression over OuterRef("pk"), annotated on the tenant list as `name`."""
    _summaries[name] = expression


def summary_annotations(now) -> dict:
    from django.db.models import IntegerField, Value

    annotations = {name: Value(0, output_field=IntegerField()) for name in SUMMARY_SLOTS}
    annotations.update({name: expression(now) for name, expression in _summaries.items()})
    return annotations


def register_panel(name: str, builder: Callable) -> None:
    """The data of console panel `name`; the panel shows as empty while nobody provides it."""
    _panels[name] = builder


def panel_builder(name: str) -> Callable | None:
    return _panels.get(name)


def register_policy_lookup(lookup: Callable) -> None:
    """`lookup(tenant)` -> the SLA policy in force for the tenant, or None."""
    _policy_lookup[:] = [lookup]


def policy_for(tenant):
    return _policy_lookup[0](tenant) if _policy_lookup else None
