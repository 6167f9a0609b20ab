"""The public pages."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from services.models import AgeGroup, Approach, Concern, Language, Location, Provider, SupportType

pytestmark = pytest.mark.django_db


def page(client, url, status=200) -> str:
    response = client.get(url)
    assert response.status_code == status
    return response.content.decode()


# --------------------------------------------------------------------------- home


def test_home_has_a_what_and_where_search_the_support_types_and_common_concerns(
    client, taxonomies, make_published_provider, make_complete_provider
):
    make_published_provider("Linden Hart")
    make_published_provider("Rowan Vale")
    make_complete_provider("Draft Only")

    html = page(client, "/")
    assert '<form method="get" action="/find/" class="home-search" role="search">' in html
    assert 'name="q"' in html and 'name="near"' in html
    for support_type in SupportType.objects.all():
        assert f'<a href="/support/{support_type.slug}/">{support_type.name}</a>' in html
        assert support_type.summary in html
    # Counselling is offered by the two published listings (the draft does not count).
    counselling_tile = html.split(">Counselling</a></h3>", 1)[1].split("</li>", 1)[0]
    assert "2 listings" in counselling_tile
    assert '<a href="/concerns/anxiety/">Anxiety</a>' in html  # a common concern from the fixture
    assert '<a href="/guide/">' in html


def test_home_counts_published_listings_per_support_type(
    client, counselling, support_group_type, make_published_provider, make_service
):
    provider = make_published_provider("Counts Once")
    make_service(provider, offers_in_person=False, offers_online=True)  # second counselling
    html = page(client, "/")
    counselling_tile = html.split(">Counselling</a></h3>", 1)[1].split("</li>", 1)[0]
    assert "1 listing<" in counselling_tile
    groups_tile = html.split(">Support groups</a></h3>", 1)[1].split("</li>", 1)[0]
    assert "0 listings" in groups_tile


def test_crisis_line_comes_first_on_every_page(client, taxonomies, settings):
    settings.CRISIS_LINE = {
        "text": "Need help now? Call the Example Line.",
        "phone": "0800 000 000",
    }
    for url in ["/", "/find/", "/support/counselling/", "/concerns/grief/"]:
        html = page(client, url)
        body = html.split("<body>", 1)[1]
        assert body.index("Need help now? Call the Example Line.") < body.index("<main"), url
        assert '<a href="tel:0800000000">Call 0800 000 000</a>' in html


# --------------------------------------------------------------------------- profile


def test_profile_of_a_published_provider(client, make_published_provider):
    provider = make_published_provider(
        "Marlow Ashby", pronouns="she/her", website="https://marlow.example", practising_since=2008
    )
    html = page(client, f"/providers/{provider.slug}/")
    assert "<h1>Marlow Ashby</h1>" in html
    assert "she/her" in html
    assert "Staff preview" not in html
    assert "Person-centred therapy" in html  # approach
    assert (
        '<li><a href="/concerns/anxiety/">Anxiety</a></li>' in html
    )  # concern, linked to its page
    assert "Registered member" in html  # qualification
    assert "<strong>Counselling:</strong> £40–£60 a session" in html
    years = timezone.localdate().year - 2008
    assert f"Practising since 2008 ({years} years)." in html
    assert '<a href="tel:01134960000">0113 496 0000</a>' in html
    assert "https://marlow.example" in html
    assert "Not yet verified by our staff" in html


def test_profile_of_a_group_shows_its_schedule(
    client, make_provider, make_service, support_group_type
):
    provider = make_provider("Circle Group", status="published")
    make_service(
        provider,
        support_type=support_group_type,
        name="Bereavement circle",
        offers_in_person=False,
        offers_online=True,
        is_free=True,
        group_weekday=1,
        group_frequency="weekly",
        group_start_time=datetime.time(19),
        group_end_time=datetime.time(20, 30),
        group_facilitator="Two trained volunteers",
    )
    html = page(client, f"/providers/{provider.slug}/")
    assert "Every week on Tuesday, 19:00–20:30; next on Tuesday" in html
    assert "Facilitated by Two trained volunteers" in html
    assert "<strong>Bereavement circle:</strong> Free" in html
    assert "Online or by phone only." in html


@pytest.mark.parametrize("status", [Provider.Status.DRAFT, Provider.Status.ARCHIVED])
def test_unpublished_profiles_are_not_found_for_the_public(client, make_complete_provider, status):
    provider = make_complete_provider("Hidden Away", status=status)
    html = page(client, f"/providers/{provider.slug}/", status=404)
    assert "Hidden Away" not in html


@pytest.mark.parametrize("status", [Provider.Status.DRAFT, Provider.Status.ARCHIVED])
def test_staff_can_preview_unpublished_profiles(editor_client, make_complete_provider, status):
    provider = make_complete_provider("Preview Me", status=status)
    html = page(editor_client, f"/providers/{provider.slug}/")
    assert "<h1>Preview Me</h1>" in html
    assert (
        f"Staff preview: this listing is {status.label.lower()} and not shown to the public."
        in html
    )


def test_logged_in_non_staff_cannot_preview(client, django_user_model, make_complete_provider):
    client.force_login(django_user_model.objects.create_user("visitor", password="x"))
    provider = make_complete_provider("Members Only")
    page(client, f"/providers/{provider.slug}/", status=404)


def test_unknown_profile_is_not_found(client):
    page(client, "/providers/no-such-listing/", status=404)


def test_town_only_address_does_not_leak_the_street(client, make_published_provider, make_location):
    provider = make_published_provider("Quiet Rooms")
    Location.objects.filter(provider=provider).delete()
    make_location(
        provider,
        name="Marigold Suite, The Old Library",
        address_line1="12 Secret Street",
        address_line2="Flat 9",
        town="Leeds",
        postcode="LS6 3AB",
        address_shown=Location.AddressShown.TOWN,
    )
    html = page(client, f"/providers/{provider.slug}/")
    assert "Leeds, LS6" in html
    # A CSRF token is 64 random letters and digits, so it holds "3AB" about one page in 4,000.
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    for private in ("Marigold", "Old Library", "Secret Street", "Flat 9", "3AB"):
        assert private not in html


def test_full_address_is_shown_when_chosen(client, make_published_provider, make_location):
    provider = make_published_provider("Open Door")
    make_location(
        provider,
        name="Front room",
        address_line1="3 Open Road",
        town="York",
        postcode="YO1 7HH",
        address_shown=Location.AddressShown.FULL,
        wheelchair_access=Location.WheelchairAccess.FULL,
        wheelchair_access_confirmed_by=Location.ConfirmedBy.STAFF,
    )
    html = page(client, f"/providers/{provider.slug}/")
    assert "3 Open Road, York, YO1 7HH" in html
    assert "Wheelchair access: step-free throughout (confirmed by directory staff)" in html


# --------------------------------------------------------------------------- query count

# provider, qualifications, locations, services, every linked name (services' terms and places,
# languages, communities: one UNION ALL), approved recommendations
PROFILE_QUERIES = 6


@pytest.fixture
def big_provider(
    make_published_provider, make_service, make_qualification, make_location, make_term
):
    """A listing with 5 services, 5 qualifications, 3 places and many vocabulary terms."""
    provider = make_published_provider("Big Practice")
    provider.languages.set([make_term(Language, name) for name in ("English", "Polish", "Welsh")])
    places = [provider.locations.get()] + [
        make_location(provider, name=f"Room {n}") for n in range(2)
    ]
    for n in range(4):
        service = make_service(
            provider,
            support_type=make_term(SupportType, f"Type {n}"),
            name=f"Service {n}",
            locations=places,
            fee_min=Decimal(30 + n),
        )
        service.approaches.set([make_term(Approach, f"Approach {n}"), make_term(Approach, "CBT")])
        service.concerns.set([make_term(Concern, f"Concern {n}")])
        service.age_groups.set([make_term(AgeGroup, f"Age {n}", min_age=n * 10)])
    for n in range(4):
        make_qualification(provider, title=f"Qualification {n}", year=2000 + n)
    assert provider.services.count() == 5
    assert provider.qualifications.count() == 5
    return provider


def test_profile_query_count_does_not_grow_with_the_listing(
    client, django_assert_num_queries, make_published_provider, big_provider
):
    small = make_published_provider("Small Practice")
    assert small.services.count() == 1

    with django_assert_num_queries(PROFILE_QUERIES):
        html = page(client, f"/providers/{small.slug}/")
    assert "<h1>Small Practice</h1>" in html

    with django_assert_num_queries(PROFILE_QUERIES):
        html = page(client, f"/providers/{big_provider.slug}/")
    assert "<h1>Big Practice</h1>" in html
    for n in range(4):
        assert f"Service {n}" in html
        assert f"Qualification {n}" in html
        assert f"Concern {n}" in html


def test_profile_query_count_with_recommendations_and_freshness(
    client, django_assert_num_queries, big_provider, staff_user, days_ago, make_qualification
):
    from services.recommendations import recommendation_approve, recommendation_submit

    for n in range(12):
        recommendation_approve(
            recommendation=recommendation_submit(
                provider=big_provider,
                author_name=f"Author {n}",
                relationship="colleague",
                author_email="a@example.org",
                text=f"Recommendation {n}.",
                consents_to_publication=True,
            ),
            by=staff_user,
        )
    make_qualification(big_provider, title="Checked licence", verified_on=days_ago(40))
    Provider.objects.filter(pk=big_provider.pk).update(
        last_verified=days_ago(20), accepting_confirmed_on=days_ago(5)
    )
    with django_assert_num_queries(PROFILE_QUERIES):
        html = page(client, f"/providers/{big_provider.slug}/")
    assert "Recommendations (12)" in html
    assert html.count("<blockquote>") == 10
    freshness = html.split('id="freshness"', 1)[1]
    for checked in (days_ago(20), days_ago(40), days_ago(5)):
        assert f"{checked.day} {checked:%B %Y}" in freshness


def test_a_stale_listing_says_so(client, make_published_provider, days_ago):
    stale = make_published_provider("Stale Practice", last_verified=days_ago(400))
    html = page(client, f"/providers/{stale.slug}/")
    assert "Our staff last checked this listing over a year ago" in html
    fresh = make_published_provider("Fresh Practice", last_verified=days_ago(10))
    assert "over a year ago" not in page(client, f"/providers/{fresh.slug}/")


def test_staff_preview_query_count_is_fixed_too(
    editor_client, django_assert_num_queries, big_provider
):
    Provider.objects.filter(pk=big_provider.pk).update(status=Provider.Status.DRAFT)
    # The same page plus the session and the user.
    with django_assert_num_queries(PROFILE_QUERIES + 2):
        html = page(editor_client, f"/providers/{big_provider.slug}/")
    assert "Staff preview" in html


# --------------------------------------------------------------------------- health


def test_healthz(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"] == "text/plain"
