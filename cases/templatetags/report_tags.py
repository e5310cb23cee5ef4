"""The report tables' chart bars and rows as HTML in one pass (templates/reports/dashboard.html):
the same markup the template loops wrote, ~100 rows × 9 cells, without a template node per cell."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from companyos.templatetags.console import _h, plain_number
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
    out = []
    for i, row in enumerate(table.rows):
        if row.bar is None:
            continue
        label, y = _h(row.label), i * BAR_STEP
        out.append(
            f'<g><title>{label}: {_h(plain_number(row.bar))}</title><text x="0" y="{y}" dy="14" class="bar-label">'
            f'{_h(Truncator(row.label).chars(18))}</text><rect x="120" y="{y}" transform="translate(0 3)" '
            f'height="14" width="{_ratio(row.bar, top)}" class="bar bar-{"b" if i % 2 else "a"}"></rect></g>'
        )
    return mark_safe("".join(out))


def _cell(v, url: str, first: bool) -> str:
    """A value cell's HTML (escaped): format_html's lazy-string checks were most of a report's render
    (~100 rows × 9 cells on each of its tables), so the rows are f-strings and `_h` (html.escape)."""
    if v is None:
        return "—"
    if first and url:
        return f'<a href="{_h(url)}">{_h(intcomma(v))}</a>'
    return _h(plain_number(v))


@register.simple_tag
def report_rows(table):
    """The table body: the row's label (a queue link when it has one) and its values, the first a link."""
    out = []
    for row in table.rows:
        label = (
            f'<a href="{_h(row.url)}" title="Open these cases in the queue">{_h(row.label)}</a>'
            if row.url
            else _h(row.label)
        )
        cells = "".join(f'<td class="num">{_cell(v, row.url, i == 0)}</td>' for i, v in enumerate(row.values))
        out.append(f'<tr><th scope="row">{label}</th>{cells}</tr>')
    return mark_safe("\n".join(out))


@register.filter
def chart_height(table) -> int:
    return len(table.rows) * BAR_STEP
