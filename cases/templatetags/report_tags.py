"""The report tables' chart bars and rows as HTML in one pass (templates/reports/dashboard.html):
the same markup the template loops wrote, ~100 rows × 9 cells, without a template node per cell."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from companyos.templatetags.console import thousands as intcomma

register = template.Library()

BAR_STEP, BAR_WIDTH = 22, 170


def _ratio(value, top) -> int:
    """As {% widthratio value top BAR_WIDTH %}."""
    return round(float(value) / float(top) * BAR_WIDTH) if top else 0


@register.simple_tag
def report_bars(table):
    """The SVG bars of a table's rows (those with a bar)."""
    top = table.bar_max
    return format_html_join(
        "",
        '<g><title>{}: {}</title><text x="0" y="{}" dy="14" class="bar-label">{}</text>'
        '<rect x="120" y="{}" transform="translate(0 3)" height="14" width="{}" class="bar bar-{}"></rect></g>',
        (
            (
                row.label,
                _text(row.bar),
                i * BAR_STEP,
                Truncator(row.label).chars(18),
                i * BAR_STEP,
                _ratio(row.bar, top),
                "b" if i % 2 else "a",
            )
            for i, row in enumerate(table.rows)
            if row.bar is not None
        ),
    )


def _text(v) -> str:
    """As the template prints a value ({{ v }}); ints and Decimals directly when no thousands separator."""
    if not settings.USE_THOUSAND_SEPARATOR:
        if type(v) is int:
            return str(v)
        if type(v) is Decimal:
            return f"{v:f}"
    return localize(v)


def _cell(v, url: str, first: bool):
    if v is None:
        return mark_safe("—")
    if first and url:
        return format_html('<a href="{}">{}</a>', url, intcomma(v))
    return _text(v)


@register.simple_tag
def report_rows(table):
    """The table body: the row's label (a queue link when it has one) and its values, the first a link."""
    out = []
    for row in table.rows:
        label = (
            format_html('<a href="{}" title="Open these cases in the queue">{}</a>', row.url, row.label)
            if row.url
            else row.label
        )
        cells = format_html_join(
            "", '<td class="num">{}</td>', ((_cell(v, row.url, i == 0),) for i, v in enumerate(row.values))
        )
        out.append(format_html('<tr><th scope="row">{}</th>{}</tr>', label, cells))
    return mark_safe("\n".join(out))


@register.filter
def chart_height(table) -> int:
    return len(table.rows) * BAR_STEP
