"""The page for a server error, made from settings alone, as whatever failed may be anywhere."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpResponseServerError
from django.template import loader
from django.templatetags.static import static

from services.fixed_urls import fixed_url

# The other error pages are Django's own handlers with the site's templates (404.html,
# 400.html, 403.html, 403_csrf.html): those render with the request, so base.html gets the
# crisis line from the context processor. Only the 500 page is rendered without one.


def server_error(request):
    """handler500. Django's own renders 500.html with an empty context, so the page would
    have no urgent-help line; this gives it the site's name and crisis line from settings.
    It asks nothing of the database, the cache or the session, any of which may be what
    failed, and leaves out the stylesheet or an address it cannot work out rather than
    failing again (then the person would get the server's bare error)."""
    context = {
        "site_name": settings.SITE_NAME,
        "crisis_line": settings.CRISIS_LINE,
        # Hashed names come from collectstatic's manifest, which may be what is missing.
        "stylesheet": _or_else(lambda: static("css/site.css"), ""),
        "home_url": _or_else(lambda: fixed_url("services:home"), "/"),
        "find_url": _or_else(lambda: fixed_url("services:find"), "/find/"),
    }
    return HttpResponseServerError(loader.get_template("500.html").render(context))


def _or_else(make: Callable[[], str], fallback: str) -> str:
    try:
        return make()
    except Exception:
        return fallback
