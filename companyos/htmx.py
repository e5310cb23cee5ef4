from urllib.parse import urlsplit


def htmx_partial(request) -> bool:
    """An HTMX request (not a boosted navigation) gets the page's partial, anything else the page."""
    htmx = getattr(request, "htmx", None)
    # A history restore (Back with htmx's history cache off) asks for the whole page.
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def partial(request, template: str, name: str) -> str:
    return f"{template}#{name}" if htmx_partial(request) else template


def is_embedded(request, home: str) -> bool:
    """An HTMX request for a partial from a page other than the partial's own (`home`, a path
    prefix): the partial is embedded elsewhere, as the queue's is in the tenant console's Cases
    panel, and must not push its URL into the address bar. NetBox's name for the same check."""
    if not htmx_partial(request):
        return False
    current = urlsplit(request.headers.get("HX-Current-URL", "")).path
    return bool(current) and not current.startswith(home)
