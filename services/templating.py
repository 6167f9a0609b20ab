"""The Jinja2 environment for the body of the results page.

Django's own template language spends about ten microseconds on each variable and tag it
renders; a results page renders a few hundred, which came to a fifth of its time. Jinja2,
which Django supports as a second engine, compiles a template to Python functions and
renders the same body in a tenth of that. The page's frame (templates/base.html) stays a
Django template, like every other page, and the body rendered here is placed in it
(services/page_frame.py renders the frame once). The
markup repeated dozens of times (cards, filter options) is built in services/cards.py.
"""

from collections.abc import Iterable
from urllib.parse import urlencode

from django.template.defaultfilters import capfirst, pluralize
from django.urls import reverse
from jinja2 import Environment

from services import cards
from services.fixed_urls import fixed_url


def environment(**options) -> Environment:
    env = Environment(**options)
    env.globals.update(
        url=url,
        querystring=querystring,
        result_cards=cards.result_cards,
        filter_groups=cards.filter_groups,
        filter_options=cards.filter_options,
        radius_options=cards.radius_options,
    )
    env.filters.update(capfirst=capfirst, pluralize=pluralize)
    return env


def url(name: str, *args) -> str:
    # The page's own links take no arguments: those are reversed once (services/fixed_urls.py).
    return reverse(name, args=args) if args else fixed_url(name)


def querystring(query, **changes) -> str:
    """What Django's {% querystring %} tag gives: the query with these changes, "?..."
    (a value of None removes a parameter), a changed one where it was. Built from the
    query's pairs: copying the QueryDict, as the tag does, cost 40 µs a link."""
    pairs = []
    for name, values in query.lists():
        if name not in changes:
            pairs.extend((name, value) for value in values)
        elif changes[name] is not None:
            pairs.extend(_values(name, changes[name]))
    for name, value in changes.items():
        if name not in query and value is not None:
            pairs.extend(_values(name, value))
    if not pairs and not query:
        return ""
    return "?" + urlencode(pairs)


def _values(name, value) -> list[tuple]:
    if isinstance(value, Iterable) and not isinstance(value, str):
        return [(name, item) for item in value]
    return [(name, value)]
