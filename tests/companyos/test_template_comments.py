"""Django's `{# … #}` comments are one line only: a comment opened and not closed on its line is
printed to the page as text. Every template opens and closes its short comments on one line (longer
ones use `{% comment %}`)."""

from pathlib import Path

from django.conf import settings


def test_no_template_has_a_short_comment_over_several_lines():
    roots = [Path(d) for t in settings.TEMPLATES for d in t["DIRS"]]
    broken = []
    for root in roots:
        for path in root.rglob("*.html"):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.count("{#") > line.count("#}"):
                    broken.append(f"{path.relative_to(root)}:{n}")
    assert roots and broken == []
