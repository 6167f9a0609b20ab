"""The site's WSGI application with a results page's search work answered from memory.

For bench/floor.py only, never production. After the first request for a URL, its
matching (words, place, filters, order), its option counts and its cards' rows come
from a dictionary, so what a results page still costs is the rest: Django's request
and response, the middleware, the form, annotating the cards and the template.
"""

import threading

# Django is set up by the site's application, so it comes before anything of the app's.
from therapy_directory.wsgi import application as site  # isort: skip

from services.search import matching, page

_url = threading.local()
_results, _counts, _cards = {}, {}, {}
_find_results, _facet_counts, _card_rows = matching.results, page.facet_counts, matching.card_rows


def _remembered_results(index, criteria, base):
    if _url.query not in _results:
        _results[_url.query] = _find_results(index, criteria, base)
    return _results[_url.query]


def _remembered_counts(criteria, base, selection=None):
    if _url.query not in _counts:
        _counts[_url.query] = _facet_counts(criteria, base, selection=selection)
    return _counts[_url.query]


def _remembered_cards(ids):
    key = tuple(ids)
    if key not in _cards:
        _cards[key] = _card_rows(ids)
    return dict(_cards[key])


matching.results = _remembered_results
page.facet_counts = _remembered_counts
matching.card_rows = _remembered_cards


def application(environ, start_response):
    _url.query = environ.get("QUERY_STRING", "")
    return site(environ, start_response)
