"""/sitemap.xml and /robots.txt."""

import re

import pytest

from services.models import Concern, Provider, SupportType

pytestmark = pytest.mark.django_db


def locations(client, url) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    return re.findall(r"<loc>([^<]+)</loc>", response.content.decode())


def test_the_index_names_each_section(client, taxonomies, make_listing):
    make_listing("Indexed")
    assert locations(client, "/sitemap.xml") == [
        "http://testserver/sitemap-pages.xml",
        "http://testserver/sitemap-support.xml",
        "http://testserver/sitemap-concerns.xml",
        "http://testserver/sitemap-providers.xml",
    ]
    assert "<lastmod>" in client.get("/sitemap.xml").content.decode()


def test_published_profiles_only(client, taxonomies, make_listing):
    shown = make_listing("Shown Listing")
    make_listing("Draft Listing", status=Provider.Status.DRAFT)
    make_listing("Archived Listing", status=Provider.Status.ARCHIVED)
    assert locations(client, "/sitemap-providers.xml") == [
        f"http://testserver{shown.get_absolute_url()}"
    ]


def test_support_type_and_concern_pages_and_the_main_pages(client, taxonomies):
    support = locations(client, "/sitemap-support.xml")
    assert support == [
        f"http://testserver/support/{t.slug}/"
        for t in SupportType.objects.order_by("position", "name")
    ]
    assert len(locations(client, "/sitemap-concerns.xml")) == Concern.objects.count()
    assert locations(client, "/sitemap-pages.xml") == [
        "http://testserver/",
        "http://testserver/guide/",
    ]
    for url in support[:2]:
        assert client.get(url).status_code == 200


def test_the_profiles_section_takes_the_same_queries_however_many(
    client, taxonomies, make_listing, django_assert_num_queries
):
    make_listing("One")
    with django_assert_num_queries(2):
        client.get("/sitemap-providers.xml")
    for n in range(5):
        make_listing(f"More {n}")
    from django.core.cache import cache

    cache.clear()
    with django_assert_num_queries(2):
        assert len(locations(client, "/sitemap-providers.xml")) == 6


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_endless_pages(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("User-agent: *\n")
    # A provider's own pages, and the one-click links in their emails, are not for crawlers.
    for path in ("/admin/", "/find/", "/api/", "/my-listing/"):
        assert f"Disallow: {path}\n" in text
    assert text.rstrip().endswith("Sitemap: http://testserver/sitemap.xml")
