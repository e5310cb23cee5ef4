"""The sanitiser against an XSS corpus: no script, handler, style, javascript:/data: URL or raw
HTML from an author reaches the page; ordinary Markdown still renders."""

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


@pytest.mark.parametrize("text", CORPUS)
def test_nothing_executable_survives(text):
    html = markdown.render(text).lower()
    for bad in ("<script", "onerror", "onload", "onmouseover", "javascript:", "vbscript:", "data:text", "<iframe",
                "<style", "<svg", "<form", "<input", "<object", "style="):  # fmt: skip
        assert bad not in html, (text, html)


def test_markdown_still_renders():
    html = markdown.render("# Title\n\n**bold** [docs](https://docs.example/x) `code`\n\n1. one\n2. two")
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html and "<ol>" in html
    assert 'href="https://docs.example/x"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_an_oversized_text_is_refused():
    with pytest.raises(markdown.MarkdownError):
        markdown.render("x" * (markdown.MAX_CHARS + 1))
