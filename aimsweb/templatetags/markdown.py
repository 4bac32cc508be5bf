"""`{{ note|markdown }}`: what a person wrote (a comment, a resolve note, a silence reason) as safe HTML.

CommonMark by markdown-it-py with raw HTML off (it is shown as text) and images off (no request to a host the
author picked), then nh3 keeps only an allow-list of tags and attributes and links to http, https and mailto
addresses, each with rel="noopener noreferrer nofollow". The API keeps the raw text."""

import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

register = template.Library()

# Longer input is cut before it is parsed (notes are capped at 5,000 characters when written; this bounds old ones).
MAX_SOURCE = 20_000
ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).disable("image")


def markdown_html(source: str) -> str:
    """Markdown to sanitised HTML (see the module's docstring)."""
    html = _parser.render(str(source or "")[:MAX_SOURCE])
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        url_relative="deny",
        link_rel=LINK_REL,
        strip_comments=True,
    )


@register.filter(name="markdown")
def markdown_filter(value: object) -> SafeString:
    """A person's note rendered as sanitised HTML: safe to output without escaping."""
    return mark_safe(markdown_html(str(value or "")))  # sanitised by nh3 with an allow-list
