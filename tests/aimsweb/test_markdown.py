"""`{{ note|markdown }}`: CommonMark, sanitised; a hostile note renders as harmless text and safe links."""

from html.parser import HTMLParser

import pytest
from django.template import Context, Template

from aimsweb.templatetags.markdown import ALLOWED_TAGS, LINK_REL, MAX_SOURCE, markdown_html


class Elements(HTMLParser):
    """The real elements of rendered HTML with their attributes (text shows "<" escaped, so it is not one)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def render(note: str) -> str:
    return Template("{% load markdown %}{{ note|markdown }}").render(Context({"note": note}))


def test_markdown_basic_formatting_and_safe_link():
    html = render("**bold** *em* `code`\n\n- one\n- two\n\n[docs](https://example.com/a?b=1&c=2)")

    assert "<strong>bold</strong>" in html and "<em>em</em>" in html and "<code>code</code>" in html
    assert "<li>one</li>" in html
    assert f'<a href="https://example.com/a?b=1&amp;c=2" rel="{LINK_REL}">docs</a>' in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](data:image/svg+xml,<svg onload=alert(1)>)",
        "![x](https://evil.example/track.png)",
        "[x](vbscript:msgbox(1))",
        '<svg><animate onbegin="alert(1)"/></svg>',
        "<iframe src=https://evil.example></iframe>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&#106;avascript:alert(1)",
        "[x](&#106;avascript:alert(1))",
        '[x](https://ok.example "title" onmouseover="alert(1)")',
        '<https://ok.example/" onmouseover="alert(1)>',
    ],
)
def test_markdown_hostile_payload_neutralised(payload):
    elements = Elements()
    elements.feed(render(payload))

    assert {tag for tag, _ in elements.found} <= ALLOWED_TAGS
    for tag, attrs in elements.found:
        assert all(name in {"href", "title", "rel", "start"} for name, _ in attrs), (tag, attrs)
        href = dict(attrs).get("href")
        assert href is None or href.startswith(("https://", "http://", "mailto:")), href


def test_markdown_raw_html_shown_as_text():
    assert "&lt;b&gt;not bold&lt;/b&gt;" in render("<b>not bold</b>")


def test_markdown_relative_and_scheme_relative_links_lose_their_href():
    html = render("[a](/admin/) [b](//evil.example/x)")

    assert "href" not in html and "a" in html and "b" in html


def test_markdown_entities_kept_as_text():
    assert render("AT&amp;T &copy; 5 &lt; 6").strip() == "<p>AT&amp;T © 5 &lt; 6</p>"


def test_markdown_deep_nesting_is_bounded():
    html = markdown_html("> " * 500 + "deep" + "\n" + "*" * 2000 + "[" * 2000)

    assert 0 < html.count("<blockquote>") <= 20


def test_markdown_very_long_input_is_cut():
    html = markdown_html("a" * (MAX_SOURCE * 3))

    assert html.count("a") <= MAX_SOURCE + 5


def test_markdown_empty_and_none():
    assert render("") == "" and markdown_html(None) == ""  # type: ignore[arg-type]
