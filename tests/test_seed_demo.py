"""The demo data generator: deterministic, varied, valid, and quiet when data exists."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from services.demo_data import TOWNS
from services.models import Language, Location, Provider, Qualification, Service

pytestmark = pytest.mark.django_db


def seed(providers=120, **options):
    out = StringIO()
    call_command("seed_demo", providers=providers, stdout=out, **options)
    return out.getvalue()


def snapshot():
    return list(
        Provider.objects.order_by("pk").values_list(
            "name", "slug", "status", "practising_since", "accepting_new_clients", "statement"
        )
    ) + list(
        Service.objects.order_by("pk").values_list(
            "support_type__slug", "fee_min", "fee_max", "group_weekday"
        )
    )


def test_same_seed_gives_the_same_listings(django_db_blocker):
    seed(seed=5)
    first = snapshot()
    Provider.objects.all().delete()
    seed(seed=5)
    assert snapshot() == first
    Provider.objects.all().delete()
    seed(seed=6)
    assert snapshot() != first


def test_listings_are_valid_and_published_ones_are_complete():
    seed(providers=150)
    for model in (Provider, Qualification, Location, Service):
        for obj in model.objects.all():
            obj.full_clean()
    for provider in Provider.objects.published():
        assert provider.publication_problems() == [], provider.slug


def test_listings_are_varied_like_a_real_directory():
    seed(providers=300)
    providers = Provider.objects.all()
    statuses = set(providers.values_list("status", flat=True))
    assert statuses == {"draft", "published", "archived"}
    year_ago = timezone.localdate() - datetime.timedelta(days=365)
    assert providers.filter(status="published", last_verified__lt=year_ago).count() >= 20
    assert providers.filter(kind="organisation").exists()
    assert set(Service.objects.values_list("support_type__slug", flat=True)) == {
        "psychotherapy",
        "counselling",
        "support-groups",
        "art-therapy",
        "play-therapy",
    }
    groups = Service.objects.filter(support_type__is_group=True)
    assert groups.exists()
    assert not groups.filter(group_weekday=None).exists()
    assert groups.filter(is_free=True).exists()
    assert Service.objects.filter(sliding_scale=True).exists()
    assert Service.objects.filter(offers_online=True, offers_in_person=False).exists()
    assert Provider.objects.exclude(languages__slug="english").count() == 0
    assert Provider.objects.filter(languages__slug="english").count() == 300
    other_languages = Language.objects.exclude(slug="english")
    assert Provider.objects.filter(languages__in=other_languages).distinct().count() > 30


def test_credentials_fit_the_support_type():
    seed(providers=300)
    licences = {
        "art-therapy": {"HCPC Registered Art Therapist"},
        "play-therapy": {
            "Registered Play Therapist",
            "Full Member, British Association of Play Therapists",
        },
    }
    checked = 0
    individuals = Provider.objects.filter(kind="individual").prefetch_related(
        "services__support_type", "qualifications"
    )
    for provider in individuals:
        types = {service.support_type.slug for service in provider.services.all()}
        for slug, titles in licences.items():
            if types == {slug}:
                held = {q.title for q in provider.qualifications.all() if q.kind == "licence"}
                assert held and held <= titles, (provider.slug, held)
                checked += 1
    assert checked >= 20


def test_locations_are_in_real_towns_near_their_centre():
    seed(providers=100)
    centres = {}
    for name, _region, lat, lng, area, _highest, _weight in TOWNS:
        centres.setdefault(name, []).append((lat, lng, area))
    for location in Location.objects.all():
        assert location.town in centres
        assert any(
            abs(location.latitude - lat) < 0.05
            and abs(location.longitude - lng) < 0.07
            and location.postcode.startswith(area)
            for lat, lng, area in centres[location.town]
        ), location


def test_shows_progress_and_adds_to_existing_data_without_slug_clashes():
    output = seed(providers=50, batch_size=20)
    assert "20/50 providers" in output and "50/50 providers" in output
    seed(providers=50, batch_size=20)
    assert Provider.objects.count() == 100
    assert Provider.objects.values("slug").distinct().count() == 100


def test_if_empty_does_nothing_when_providers_exist():
    seed(providers=10)
    output = seed(providers=10, if_empty=True)
    assert "nothing added" in output
    assert Provider.objects.count() == 10


def test_search_text_and_cards_match_what_indexing_builds_from_saved_rows():
    """seed_demo writes documents and cards from its plans; they must equal the real thing."""
    import json

    from services.indexing import facts_from_provider, result_card, search_document, search_queryset

    seed(providers=150)
    for provider in search_queryset():
        facts = facts_from_provider(provider)
        assert provider.search_document == search_document(facts), provider.slug
        assert provider.card == json.loads(json.dumps(result_card(facts))), provider.slug
        assert provider.card["types"], provider.slug


def test_recommendations_and_reports_are_seeded_and_counted():
    from django.db.models import Count, Q

    from services.models import Recommendation, Report

    seed(providers=300)
    statuses = set(Recommendation.objects.values_list("status", flat=True))
    assert statuses == {"approved", "pending", "rejected"}
    assert Report.objects.filter(status="open").exists()
    # Only published listings have them, and the listings' counts agree with the rows.
    assert not Recommendation.objects.exclude(provider__status="published").exists()
    counted = Provider.objects.annotate(
        approved=Count(
            "recommendations", filter=Q(recommendations__status="approved"), distinct=True
        ),
        reported=Count("reports", filter=Q(reports__status="open"), distinct=True),
    )
    for provider in counted:
        assert provider.recommendations_approved == provider.approved, provider.slug
        assert provider.open_reports == provider.reported, provider.slug
    assert Provider.objects.recommended().count() > 30
