"""The sanitiser against an XSS corpus: no script, handler, style, javascript:/data: URL or raw
HTML from an author reaches the page; ordinary Markdown still renders."""

from html.parser import HTMLParser

import pytest

from runbooks import markdown

CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src='https://evil.example'></iframe>",
    "<style>body{display:none}</style>",
    "<svg onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "[x](vbscript:msgbox(1))",
    "<<script>script>alert(1)<</script>/script>",
    "`<script>` inside code is text",
    '<form action="https://evil.example"><input name=x></form>',
    '[x](https://ok.example "title" onmouseover="alert(1)")',
    "<object data=javascript:alert(1)>",
]


class Elements(HTMLParser):
    """The elements and attributes the browser would build (text that merely looks like a tag is text)."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


@pytest.mark.parametrize("text", CORPUS)
def test_nothing_executable_survives(text):
    parser = Elements()
    parser.feed(markdown.render(text))
    for tag, attrs in parser.found:
        assert tag in markdown.TAGS, (text, tag)
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", (text, name)
            if name in ("href", "src"):
                assert value.split(":", 1)[0].strip().lower() in ("http", "https", "mailto") or ":" not in value, (
                    text,
                    value,
                )


def test_markdown_still_renders():
    html = markdown.render("# Title\n\n**bold** [docs](https://docs.example/x) `code`\n\n1. one\n2. two")
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<ol>" in html
    assert 'href="https://docs.example/x"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_an_oversized_text_is_refused():
    with pytest.raises(markdown.MarkdownError):
        markdown.render("x" * (markdown.MAX_CHARS + 1))
