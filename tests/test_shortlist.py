"""The shortlist: saving and removing listings in the session, with and without JavaScript."""

import json
import re
from urllib.parse import urlencode

import pytest
from django.test import Client

from services.models import Provider
from services.shortlist import SESSION_KEY, SHORTLIST_MAX
from tests.conftest import LEEDS
from tests.test_find import FIND_QUERIES, PROFILE_QUERIES

pytestmark = pytest.mark.django_db

# The shortlist page with something saved: the session, then the saved listings.
SHORTLIST_QUERIES = 2
# A results page or a profile with a shortlist in the session reads the session too.
SESSION_QUERIES = 1

JSON = {"HTTP_ACCEPT": "application/json"}
FIND_URL = "/find/?" + urlencode({"concern": "grief", "near": "Leeds", "sort": "name"})


@pytest.fixture
def listings(make_listing):
    """Three published counsellors for grief in Leeds, by name."""
    return [
        make_listing(
            name,
            slug=name.lower().replace(" ", "-"),
            places=[("Leeds", LEEDS[0] + n / 1000, LEEDS[1])],
            services=[{"concerns": ["grief"]}],
        )
        for n, name in enumerate(["Alder Counselling", "Birch Therapy", "Cedar Support"])
    ]


def save(client, slug, next_url="/find/", **extra):
    return client.post("/shortlist/", {"add": slug, "next": next_url}, **extra)


def saved_ids(client) -> list[int]:
    return client.session.get(SESSION_KEY, [])


def card_button(html: str, slug: str) -> str:
    match = re.search(
        rf'<button type="submit" form="shortlist-form"[^>]*value="{slug}"[^>]*>', html
    )
    assert match, f"no Save button for {slug}"
    return match[0]


# --------------------------------------------------------------------------- without JavaScript


def test_saving_from_a_result_card_goes_back_to_the_card(client, listings):
    alder = listings[0]
    response = save(client, alder.slug, next_url=FIND_URL)
    assert response.status_code == 303
    assert response["Location"] == f"{FIND_URL}#provider-{alder.pk}"
    assert saved_ids(client) == [alder.pk]

    html = client.get(FIND_URL).content.decode()
    assert card_button(html, alder.slug) == (
        '<button type="submit" form="shortlist-form" class="save" name="remove"'
        f' value="{alder.slug}" aria-pressed="true">'
    )
    assert 'name="add"' in card_button(html, listings[1].slug)
    assert 'aria-pressed="false"' in card_button(html, listings[1].slug)
    assert '<span role="status" data-shortlist-status>1 listing on your shortlist.</span>' in html
    # The one form the cards' buttons submit: outside the search form, with its token.
    form = html.split('id="shortlist-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="csrfmiddlewaretoken"' in form
    assert (
        html.index('class="find-form"') < html.index("</form>") < html.index('id="shortlist-form"')
    )
    # The link to the shortlist keeps the place and the concern, for the comparison.
    assert 'href="/shortlist/?near=Leeds&amp;concern=grief" data-shortlist-link>' in html


def test_saving_and_removing_on_a_profile(client, listings):
    birch = listings[1]
    profile = birch.get_absolute_url()
    html = client.get(profile).content.decode()
    assert 'name="add" value="birch-therapy" aria-pressed="false">Save' in html
    assert save(client, birch.slug, next_url=profile)["Location"] == (
        f"{profile}#provider-{birch.pk}"
    )
    html = client.get(profile).content.decode()
    assert 'name="remove" value="birch-therapy" aria-pressed="true">Saved' in html
    assert f'id="provider-{birch.pk}"' in html

    response = client.post("/shortlist/", {"remove": birch.slug, "next": profile})
    assert response.status_code == 303
    assert saved_ids(client) == []


def test_the_shortlist_page_lists_what_was_saved_in_order_with_remove(client, listings):
    for provider in reversed(listings):
        save(client, provider.slug)
    html = client.get("/shortlist/").content.decode()
    assert "<h1>Your shortlist</h1>" in html
    names = re.findall(r'<h2 id="provider-\d+"><a href="[^"]+">([^<]+)</a></h2>', html)
    assert names == ["Cedar Support", "Birch Therapy", "Alder Counselling"]
    assert html.count('name="remove"') == 3
    assert '<span class="visually-hidden"> Cedar Support</span>' in html
    assert "3 listings on your shortlist." in html

    response = client.post("/shortlist/", {"remove": "birch-therapy", "next": "/shortlist/"})
    assert response.status_code == 303
    html = client.get(response["Location"]).content.decode()
    assert "Birch Therapy" not in html
    assert saved_ids(client) == [listings[2].pk, listings[0].pk]


def test_the_shortlist_page_offers_a_comparison_that_keeps_the_search(client, make_listing):
    providers = [make_listing(f"Option {n}", slug=f"option-{n}") for n in range(5)]
    for provider in providers:
        save(client, provider.slug)
    html = client.get("/shortlist/?near=Leeds&concern=grief&type=counselling").content.decode()
    form = html.split('action="/compare/"', 1)[1].split("</form>", 1)[0]
    assert '<input type="hidden" name="near" value="Leeds">' in form
    assert '<input type="hidden" name="concern" value="grief">' in form
    assert 'name="type"' not in form  # only what the comparison uses
    # The first four are ticked, so "Compare these" works straight away.
    ticked = re.findall(r'name="p" value="([^"]+)" id="compare-\d+" checked', form)
    assert ticked == [p.slug for p in providers[:4]]
    assert 'name="p" value="option-4" id="compare-' in form
    assert "Compare these</button>" in form


def test_with_one_saved_there_is_nothing_to_compare_yet(client, listings):
    save(client, listings[0].slug)
    html = client.get("/shortlist/").content.decode()
    assert "<p data-compare-few>Save at least one more" in html
    assert "data-compare-button hidden>Compare these" in html


def test_an_empty_shortlist_says_how_to_fill_it(client, listings, django_assert_num_queries):
    with django_assert_num_queries(0):  # no session cookie: nothing to read
        response = client.get("/shortlist/")
    html = response.content.decode()
    assert "Nothing is saved yet." in html
    assert "<div data-shortlist-empty>" in html
    assert "sessionid" not in response.cookies


def test_clearing_the_shortlist(client, listings):
    for provider in listings:
        save(client, provider.slug)
    response = client.post("/shortlist/", {"clear": "1", "next": "/shortlist/"})
    assert response.status_code == 303
    assert response["Location"] == "/shortlist/"
    assert saved_ids(client) == []


def test_saving_twice_keeps_one(client, listings):
    save(client, listings[0].slug)
    save(client, listings[0].slug)
    assert saved_ids(client) == [listings[0].pk]


# --------------------------------------------------------------------------- with JavaScript


def test_saving_and_removing_answer_json_for_the_script(client, listings):
    response = save(client, listings[0].slug, **JSON)
    assert response.status_code == 200
    assert response.json() == {
        "saved": True,
        "count": 1,
        "message": "Saved Alder Counselling to your shortlist. 1 saved in all.",
    }
    save(client, listings[1].slug, **JSON)
    response = client.post("/shortlist/", {"remove": listings[0].slug}, **JSON)
    assert response.json() == {
        "saved": False,
        "count": 1,
        "message": "Removed Alder Counselling from your shortlist. 1 saved in all.",
    }
    assert saved_ids(client) == [listings[1].pk]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("status", [Provider.Status.DRAFT, Provider.Status.ARCHIVED])
def test_an_unpublished_listing_cannot_be_saved(client, make_listing, status):
    hidden = make_listing("Hidden Listing", slug="hidden-listing", status=status)
    response = save(client, hidden.slug)
    assert response.status_code == 404
    html = response.content.decode()
    assert "That listing is not in the directory at the moment" in html
    assert "<h1>Your shortlist did not change</h1>" in html
    assert saved_ids(client) == []
    response = save(client, hidden.slug, **JSON)
    assert response.status_code == 404
    assert "not in the directory" in response.json()["error"]


@pytest.mark.parametrize(
    "slug", ["no-such-listing", "", "a" * 300, "../../etc", "nul\x00byte", "ünïcode", "x y"]
)
def test_a_bad_slug_is_a_clear_404_not_a_500(client, listings, slug):
    response = save(client, slug)
    assert response.status_code == 404
    assert "could not be saved" in response.content.decode()
    response = client.post("/shortlist/", {"remove": slug, "next": "/find/"})
    assert response.status_code == 303  # taking off what is not there changes nothing
    assert saved_ids(client) == []


def test_a_post_that_asks_nothing_is_a_400(client, listings):
    response = client.post("/shortlist/", {"next": "/find/", "provider": listings[0].slug})
    assert response.status_code == 400
    assert "Nothing was asked" in response.content.decode()


@pytest.mark.parametrize(
    "next_url",
    ["https://elsewhere.example/", "//elsewhere.example/", "javascript:alert(1)", "", "/\\x.org"],
)
def test_next_must_be_a_local_address(client, listings, next_url):
    response = save(client, listings[0].slug, next_url=next_url)
    assert response.status_code == 303
    assert response["Location"] == f"/shortlist/#provider-{listings[0].pk}"


def test_the_shortlist_is_capped_with_a_clear_message(client, make_listing):
    providers = [make_listing(f"Listing {n}") for n in range(SHORTLIST_MAX + 1)]
    for provider in providers[:SHORTLIST_MAX]:
        assert save(client, provider.slug).status_code == 303
    response = save(client, providers[-1].slug)
    assert response.status_code == 409
    assert f"Your shortlist is full: it holds up to {SHORTLIST_MAX} listings." in (
        response.content.decode()
    )
    assert save(client, providers[-1].slug, **JSON).status_code == 409
    assert len(saved_ids(client)) == SHORTLIST_MAX
    # A saved listing that is no longer published stops counting.
    Provider.objects.filter(pk=providers[0].pk).update(status=Provider.Status.ARCHIVED)
    assert save(client, providers[-1].slug).status_code == 303
    assert saved_ids(client) == [p.pk for p in providers[1:]]


def test_listings_unpublished_after_saving_are_left_out_and_explained(client, listings):
    for provider in listings:
        save(client, provider.slug)
    Provider.objects.filter(pk=listings[1].pk).update(status=Provider.Status.DRAFT)
    html = client.get("/shortlist/").content.decode()
    assert "Birch Therapy" not in html
    assert "One listing you saved is no longer in the directory, so it is not shown." in html
    assert "2 listings on your shortlist." in html


def test_a_shortlist_post_needs_the_csrf_token(listings):
    client = Client(enforce_csrf_checks=True)
    response = save(client, listings[0].slug)
    assert response.status_code == 403
    # With the token from the page's form, it works.
    html = client.get(FIND_URL).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    response = client.post(
        "/shortlist/", {"add": listings[0].slug, "next": "/find/", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 303


def test_nothing_changes_on_get(client, listings):
    response = client.get("/shortlist/", {"add": listings[0].slug, "clear": "1"})
    assert response.status_code == 200
    assert saved_ids(client) == []
    assert client.put("/shortlist/").status_code == 405


def test_a_tampered_session_value_is_ignored(client, listings):
    session = client.session
    session[SESSION_KEY] = {"not": "a list"}
    session.save()
    assert client.get("/shortlist/").status_code == 200
    assert client.get(FIND_URL).status_code == 200
    session[SESSION_KEY] = ["x", listings[0].pk, None]
    session.save()
    html = client.get("/shortlist/").content.decode()
    assert "Alder Counselling" in html


# --------------------------------------------------------------------------- queries


def test_results_and_profile_query_counts_with_and_without_a_session(
    client, listings, django_assert_num_queries
):
    client.get(FIND_URL)  # the index is built, the place remembered
    assert "sessionid" not in client.cookies
    with django_assert_num_queries(FIND_QUERIES):
        client.get(FIND_URL)
    with django_assert_num_queries(PROFILE_QUERIES):
        client.get(listings[0].get_absolute_url())

    save(client, listings[0].slug)
    assert "sessionid" in client.cookies
    with django_assert_num_queries(FIND_QUERIES + SESSION_QUERIES):
        response = client.get(FIND_URL)
    assert 'aria-pressed="true"' in card_button(response.content.decode(), listings[0].slug)
    with django_assert_num_queries(PROFILE_QUERIES + SESSION_QUERIES):
        client.get(listings[1].get_absolute_url())


def test_the_shortlist_page_query_count_does_not_grow(
    client, make_listing, django_assert_num_queries
):
    providers = [make_listing(f"Listing {n}") for n in range(SHORTLIST_MAX)]
    save(client, providers[0].slug)
    with django_assert_num_queries(SHORTLIST_QUERIES):
        client.get("/shortlist/")
    for provider in providers[1:]:
        save(client, provider.slug)
    with django_assert_num_queries(SHORTLIST_QUERIES):
        response = client.get("/shortlist/")
    assert response.content.decode().count('name="remove"') == SHORTLIST_MAX


def test_the_json_answers_are_json(client, listings):
    response = save(client, listings[0].slug, **JSON)
    assert response["Content-Type"] == "application/json"
    json.loads(response.content)
