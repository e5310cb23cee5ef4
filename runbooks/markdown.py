"""Markdown for runbooks and articles, rendered safely: markdown-it-py parses with raw HTML off
(an author's `<script>` becomes text), then nh3 (ammonia) keeps only the tags, attributes and URL
schemes listed here — so a `javascript:` link, an `on*` handler or a `<style>` never reaches the
page whatever the parser lets through. Pure: no ORM."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

MAX_CHARS = 100_000

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

TAGS = {
    "a", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "code",
    "pre", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "del", "img",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


class MarkdownError(ValueError):
    pass


def render(text: str) -> str:
    """Markdown to sanitised HTML."""
    text = text or ""
    if len(text) > MAX_CHARS:
        raise MarkdownError(f"The text is too long ({len(text):,} characters; at most {MAX_CHARS:,}).")
    return sanitise(_md.render(text))


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
