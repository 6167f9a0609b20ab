"""Addresses reversed once (services/fixed_urls.py) are still what reverse() gives."""

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from services.fixed_urls import around_slug, fixed_url


@pytest.fixture
def under_a_prefix():
    """The site served from /directory/, as behind a proxy that passes SCRIPT_NAME."""
    set_script_prefix("/directory/")
    yield
    clear_script_prefix()


@pytest.mark.parametrize("name", ["services:find", "services:shortlist", "services:guide"])
def test_a_fixed_url_is_what_reverse_gives(name):
    assert fixed_url(name) == reverse(name)
    assert fixed_url(name) == reverse(name)  # and again, from what was kept


def test_a_fixed_url_follows_the_script_prefix(under_a_prefix):
    fixed_url("services:find")  # kept under this prefix ...
    assert fixed_url("services:find") == "/directory/find/"
    clear_script_prefix()
    assert fixed_url("services:find") == "/find/"  # ... and not used under another


def test_a_fixed_url_follows_the_urlconf(settings):
    assert fixed_url("services:find") == "/find/"
    settings.ROOT_URLCONF = "tests.urls_under_prefix"
    assert fixed_url("services:find") == "/elsewhere/find/"


def test_around_a_slug_is_what_reverse_gives(under_a_prefix):
    before, after = around_slug("services:provider_detail")
    slug = "ash-counselling-2"
    assert before + slug + after == reverse("services:provider_detail", kwargs={"slug": slug})
