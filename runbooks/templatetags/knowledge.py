from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def safe_snippet(text) -> str:
    """A search snippet (SearchHeadline over the raw Markdown): everything escaped, then only the
    highlight marks put back — an author's `<script>` in the body stays text."""
    escaped = escape(text or "")
    return mark_safe(escaped.replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>"))
