"""The frame of the results page (templates/base.html, through services/find.html), rendered
once and reused.

Everything in the frame but the title and the body is the same on every results page: the
site's name, the crisis line, the static files' addresses and the fixed links. Rendering it
with Django's template language cost about half a millisecond a page, a twentieth of the
page. So it is rendered once per process and script prefix, with markers where the title
and the body go, and each page joins the pieces. The frame stays one Django template that
every page shares. A changed setting (tests change the crisis line) forgets the pieces.
"""

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.html import conditional_escape

TEMPLATE = "services/find.html"
# Where the title and the body go, in the one rendering of the frame: a NUL is not
# allowed in HTML text, so the frame itself holds none.
_TITLE, _BODY = "\x00title\x00", "\x00body\x00"

_pieces: dict[str, tuple[str, str, str]] = {}


def results_page(request, title: str, body: str) -> str:
    """The whole page: the frame around `body` (HTML), titled `title` (text, escaped here)."""
    prefix = get_script_prefix()
    pieces = _pieces.get(prefix)
    if pieces is None:
        pieces = _pieces[prefix] = _split(request)
    before_title, before_body, after_body = pieces
    return before_title + conditional_escape(title) + before_body + body + after_body


def _split(request) -> tuple[str, str, str]:
    html = render_to_string(TEMPLATE, {"title": _TITLE, "body": _BODY}, request)
    if html.count(_TITLE) != 1 or html.count(_BODY) != 1:
        raise ValueError(f"{TEMPLATE} must show its title and its body once each")
    before_title, rest = html.split(_TITLE)
    before_body, after_body = rest.split(_BODY)
    return before_title, before_body, after_body


@receiver(setting_changed)
def _forget(**kwargs) -> None:
    _pieces.clear()
