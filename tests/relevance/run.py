"""Runs the relevance set (searches.py) through the results page, in-process.

Used by the tests (test_relevance.py) and by `make bench` on its large database:

    DATABASE_URL=postgres://... python -m tests.relevance.run

prints one line of JSON: {"met": n, "total": n, "misses": {case: [failures]}}.
"""

import contextlib
import json
import sys
import urllib.parse


@contextlib.contextmanager
def jinja_contexts():
    """response.context holds the Jinja2 templates' contexts, as tests/conftest.py arranges
    for the tests (Django's test client hears of each template rendered by this signal)."""
    from django.template import Context
    from django.template.backends.jinja2 import Template
    from django.test.signals import template_rendered

    rendered = Template.render

    def render(self, context=None, request=None):
        html = rendered(self, context, request)
        template_rendered.send(sender=self, template=self, context=Context(context or {}))
        return html

    Template.render = render
    try:
        yield
    finally:
        Template.render = rendered


def search(client, case):
    """The response to a case's search, as a browser would send it."""
    return client.get("/find/?" + urllib.parse.urlencode(case["params"], doseq=True))


def check_response(case, response) -> list[str]:
    """What the response to a case missed: check() on its results page."""
    from tests.relevance.searches import check

    if response.context is None:
        return [f"no results page: status {response.status_code}"]
    return check(case, response.context, response.content.decode())


def run_all(client) -> dict[str, list[str]]:
    """{case name: failures} for every case (an empty list: met)."""
    from tests.relevance.searches import CASES

    missed = {}
    with jinja_contexts():
        for case in CASES:
            missed[case["name"]] = check_response(case, search(client, case))
    return missed


def main() -> None:
    import django

    django.setup()
    from django.test import Client

    missed = run_all(Client())
    misses = {name: failures for name, failures in missed.items() if failures}
    print(json.dumps({"met": len(missed) - len(misses), "total": len(missed), "misses": misses}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
