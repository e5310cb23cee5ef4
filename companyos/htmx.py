def htmx_partial(request) -> bool:
    """An HTMX request (not a boosted navigation) gets the page's partial, anything else the page."""
    htmx = getattr(request, "htmx", None)
    # A history restore (Back with htmx's history cache off) asks for the whole page.
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def partial(request, template: str, name: str) -> str:
    return f"{template}#{name}" if htmx_partial(request) else template
