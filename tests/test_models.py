"""The data model: database constraints, clean() rules and computed properties."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from services.models import (
    AgeGroup,
    Approach,
    Language,
    Location,
    Provider,
    Qualification,
    Service,
    SupportType,
)

pytestmark = pytest.mark.django_db


def assert_violates(constraint: str, save):
    """`save()` must be refused by the database itself, naming the constraint or column."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        save()
    assert constraint in str(caught.value)


# --------------------------------------------------------------------------- constraints


@pytest.fixture
def provider(make_provider):
    return make_provider("Constraint Tester")


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"fee_min": Decimal("-0.01")}, "service_fee_min_not_negative"),
        ({"fee_max": Decimal("-5")}, "service_fee_max_not_negative"),
        ({"fee_min": Decimal("60"), "fee_max": Decimal("40")}, "service_fee_min_not_above_max"),
        ({"is_free": True, "fee_min": Decimal("10")}, "service_free_has_no_fee"),
        ({"is_free": True, "fee_max": Decimal("10")}, "service_free_has_no_fee"),
        (
            {"offers_in_person": False, "offers_online": False, "offers_phone": False},
            "service_has_a_format",
        ),
        (
            {"group_start_time": datetime.time(19), "group_end_time": datetime.time(18)},
            "service_group_starts_before_it_ends",
        ),
        (
            {"group_start_time": datetime.time(19), "group_end_time": datetime.time(19)},
            "service_group_starts_before_it_ends",
        ),
        ({"currency": "gbp"}, "service_currency_is_iso_code"),
        ({"currency": "GB"}, "service_currency_is_iso_code"),
        ({"currency": "GB1"}, "service_currency_is_iso_code"),
        ({"currency": ""}, "service_currency_is_iso_code"),
        ({"group_weekday": 7}, "service_group_weekday_valid"),
        ({"group_frequency": "daily"}, "service_group_frequency_known"),
    ],
)
def test_service_constraints_are_enforced_by_the_database(
    provider, counselling, fields, constraint
):
    assert_violates(
        constraint,
        lambda: Service.objects.create(provider=provider, support_type=counselling, **fields),
    )
    assert not Service.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"fee_min": Decimal("0"), "fee_max": Decimal("0"), "is_free": True},
        {"fee_min": Decimal("50"), "fee_max": Decimal("50")},
        {"fee_min": None, "fee_max": Decimal("50")},
        {"offers_in_person": False, "offers_phone": True},
        {"currency": "EUR", "group_weekday": 6, "group_frequency": "monthly"},
        {"group_start_time": datetime.time(18), "group_end_time": datetime.time(19, 30)},
    ],
)
def test_service_constraints_allow_valid_rows(provider, counselling, fields):
    Service.objects.create(provider=provider, support_type=counselling, **fields)
    assert Service.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"latitude": 90.5, "longitude": 0}, "location_latitude_in_range"),
        ({"latitude": -91, "longitude": 0}, "location_latitude_in_range"),
        ({"latitude": 0, "longitude": 180.5}, "location_longitude_in_range"),
        ({"latitude": 0, "longitude": -181}, "location_longitude_in_range"),
        ({"latitude": 53.8}, "location_coordinates_both_or_neither"),
        ({"longitude": -1.5}, "location_coordinates_both_or_neither"),
        ({"wheelchair_access": "full"}, "location_wheelchair_access_confirmed"),
        ({"wheelchair_access": "none"}, "location_wheelchair_access_confirmed"),
    ],
)
def test_location_constraints_are_enforced_by_the_database(
    provider, make_location, fields, constraint
):
    assert_violates(constraint, lambda: make_location(provider, **fields))
    assert not Location.objects.exists()


def test_location_constraints_allow_valid_rows(provider, make_location):
    make_location(provider, latitude=90, longitude=-180)
    make_location(provider, wheelchair_access="partial", wheelchair_access_confirmed_by="staff")
    make_location(provider)  # no coordinates, access unknown
    assert Location.objects.count() == 3


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        (
            {"status": "published", "phone": "", "email": "", "website": ""},
            "provider_published_has_contact",
        ),
        ({"status": "pending"}, "provider_status_known"),
        ({"kind": "robot"}, "provider_kind_known"),
        ({"practising_since": 1939}, "provider_practising_since_plausible"),
    ],
)
def test_provider_constraints_are_enforced_by_the_database(make_provider, fields, constraint):
    assert_violates(constraint, lambda: make_provider("Broken", **fields))
    assert not Provider.objects.filter(name="Broken").exists()


def test_published_provider_cannot_lose_its_last_contact(make_provider):
    provider = make_provider(status="published", email="", website="https://example.org")
    provider.website = ""
    assert_violates("provider_published_has_contact", provider.save)
    provider.refresh_from_db()
    assert provider.website == "https://example.org"


def test_provider_constraints_allow_valid_rows(make_provider):
    make_provider(status="published", email="", phone="", website="https://example.org")
    make_provider(status="draft", email="", phone="", website="")  # drafts may be incomplete
    make_provider(status="archived", practising_since=1940, kind="organisation")
    assert Provider.objects.count() == 3


def test_duplicate_provider_slug_is_refused(make_provider):
    make_provider("First", slug="same-slug")
    assert_violates("slug", lambda: make_provider("Second", slug="same-slug"))


@pytest.mark.parametrize("model", [SupportType, Approach])
def test_duplicate_taxonomy_slug_is_refused(model):
    model.objects.create(name="One name", slug="shared")
    assert_violates("slug", lambda: model.objects.create(name="Another name", slug="shared"))


def test_duplicate_taxonomy_name_is_refused():
    Approach.objects.create(name="EMDR", slug="emdr")
    assert_violates("name", lambda: Approach.objects.create(name="EMDR", slug="emdr-2"))


def test_duplicate_language_code_is_refused():
    Language.objects.create(name="Spanish", slug="spanish", code="es")
    assert_violates(
        "code", lambda: Language.objects.create(name="Castellano", slug="castellano", code="es")
    )


def test_age_group_min_above_max_is_refused():
    assert_violates(
        "agegroup_min_age_not_above_max",
        lambda: AgeGroup.objects.create(name="Odd", slug="odd", min_age=18, max_age=12),
    )
    AgeGroup.objects.create(name="Adults", slug="adults", min_age=18, max_age=None)
    AgeGroup.objects.create(name="Eighteen", slug="eighteen", min_age=18, max_age=18)
    assert AgeGroup.objects.count() == 2


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"year": 1939}, "qualification_year_plausible"),
        ({"kind": "diploma-mill"}, "qualification_kind_known"),
    ],
)
def test_qualification_constraints_are_enforced_by_the_database(
    provider, make_qualification, fields, constraint
):
    assert_violates(constraint, lambda: make_qualification(provider, **fields))


# --------------------------------------------------------------------------- clean()


def messages_of(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict


def test_provider_clean_refuses_future_practising_since_and_confirmation():
    next_year = timezone.localdate().year + 1
    provider = Provider(
        name="Future",
        slug="future",
        email="a@example.org",
        practising_since=next_year,
        accepting_confirmed_on=timezone.localdate() + datetime.timedelta(days=1),
    )
    with pytest.raises(ValidationError) as caught:
        provider.clean()
    assert messages_of(caught.value) == {
        "practising_since": ["This year has not happened yet."],
        "accepting_confirmed_on": ["This date is in the future."],
    }


def test_provider_clean_accepts_this_year():
    Provider(name="New", slug="new", practising_since=timezone.localdate().year).clean()


def test_provider_full_clean_refuses_practising_before_1940():
    provider = Provider(name="Old", slug="old", email="a@example.org", practising_since=1939)
    with pytest.raises(ValidationError) as caught:
        provider.full_clean()
    assert "practising_since" in messages_of(caught.value)


def test_provider_clean_published_needs_contact():
    provider = Provider(name="Silent", slug="silent", status=Provider.Status.PUBLISHED)
    with pytest.raises(ValidationError) as caught:
        provider.clean()
    assert messages_of(caught.value) == {
        "phone": [
            "A published listing needs a way to be contacted: a phone number, an email or a website."
        ]
    }


def test_provider_clean_published_needs_a_service(make_provider):
    provider = make_provider("Unserviced")
    provider.status = Provider.Status.PUBLISHED
    with pytest.raises(ValidationError) as caught:
        provider.clean()
    assert caught.value.messages == ["it needs at least one service"]


def test_provider_clean_passes_for_a_complete_published_listing(make_complete_provider):
    provider = make_complete_provider()
    provider.status = Provider.Status.PUBLISHED
    provider.full_clean()
    assert provider.publication_problems() == []


def test_service_clean_free_with_a_fee(provider, counselling):
    service = Service(provider=provider, support_type=counselling, is_free=True, fee_min=10)
    with pytest.raises(ValidationError) as caught:
        service.clean()
    assert messages_of(caught.value) == {
        "is_free": ["A free service cannot have a fee; clear the fees or untick “free”."]
    }


def test_service_clean_fee_range_and_format(provider, counselling):
    service = Service(
        provider=provider,
        support_type=counselling,
        fee_min=60,
        fee_max=40,
        offers_in_person=False,
        offers_online=False,
        offers_phone=False,
    )
    with pytest.raises(ValidationError) as caught:
        service.clean()
    assert messages_of(caught.value) == {
        "fee_max": ["The highest fee cannot be below the lowest."],
        "offers_in_person": ["Choose at least one of in person, online or by phone."],
    }


def test_service_clean_group_needs_weekday_and_frequency(provider, support_group_type):
    service = Service(provider=provider, support_type=support_group_type)
    with pytest.raises(ValidationError) as caught:
        service.clean()
    assert messages_of(caught.value) == {
        "group_weekday": ["A group needs the day it meets."],
        "group_frequency": ["A group needs how often it meets."],
    }


def test_service_clean_group_must_start_before_it_ends(provider, support_group_type):
    service = Service(
        provider=provider,
        support_type=support_group_type,
        group_weekday=Service.Weekday.TUESDAY,
        group_frequency=Service.Frequency.WEEKLY,
        group_start_time=datetime.time(20),
        group_end_time=datetime.time(19),
    )
    with pytest.raises(ValidationError) as caught:
        service.clean()
    assert messages_of(caught.value) == {"group_end_time": ["A group must start before it ends."]}


def test_service_clean_accepts_a_scheduled_group(provider, support_group_type):
    Service(
        provider=provider,
        support_type=support_group_type,
        group_weekday=Service.Weekday.TUESDAY,
        group_frequency=Service.Frequency.WEEKLY,
        group_start_time=datetime.time(19),
        group_end_time=datetime.time(20, 30),
        is_free=True,
        fee_min=0,
    ).clean()


def test_non_group_service_needs_no_schedule(provider, counselling):
    Service(provider=provider, support_type=counselling).clean()


def test_location_clean_coordinates_both_or_neither(provider):
    location = Location(provider=provider, address_line1="1 Road", town="Leeds", latitude=53.8)
    with pytest.raises(ValidationError) as caught:
        location.clean()
    assert caught.value.messages == ["Give both latitude and longitude, or neither."]


def test_location_clean_wheelchair_access_needs_who_confirmed(provider):
    location = Location(provider=provider, wheelchair_access=Location.WheelchairAccess.FULL)
    with pytest.raises(ValidationError) as caught:
        location.clean()
    assert messages_of(caught.value) == {
        "wheelchair_access_confirmed_by": ["Say who confirmed the wheelchair access."]
    }


def test_location_full_clean_refuses_out_of_range_latitude(provider):
    location = Location(
        provider=provider,
        address_line1="1 Road",
        town="Leeds",
        postcode="LS1 1AA",
        latitude=95,
        longitude=0,
    )
    with pytest.raises(ValidationError) as caught:
        location.full_clean()
    assert "latitude" in messages_of(caught.value)


def test_qualification_clean_refuses_future_dates(provider):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as caught:
        Qualification(provider=provider, kind="degree", title="MA", year=today.year + 1).clean()
    assert messages_of(caught.value) == {"year": ["This year has not happened yet."]}
    with pytest.raises(ValidationError) as caught:
        Qualification(
            provider=provider,
            kind="degree",
            title="MA",
            verified_on=today + datetime.timedelta(days=1),
        ).clean()
    assert messages_of(caught.value) == {"verified_on": ["This date is in the future."]}


# --------------------------------------------------------------------------- properties


def test_years_of_experience():
    this_year = timezone.localdate().year
    assert Provider(practising_since=this_year - 12).years_of_experience == 12
    assert Provider(practising_since=this_year).years_of_experience == 0
    assert Provider(practising_since=this_year + 3).years_of_experience == 0
    assert Provider(practising_since=None).years_of_experience is None


def test_has_contact():
    assert not Provider().has_contact
    assert Provider(website="https://example.org").has_contact
    assert Provider(phone="0113 496 0000").has_contact


def _location(address_shown):
    return Location(
        address_line1="12 Secret Street",
        address_line2="Flat 3",
        town="Leeds",
        postcode="LS6 3AB",
        address_shown=address_shown,
    )


def test_public_address_full():
    assert (
        _location(Location.AddressShown.FULL).public.address
        == "12 Secret Street, Flat 3, Leeds, LS6 3AB"
    )


def test_public_address_town_only_hides_street_and_full_postcode():
    address = _location(Location.AddressShown.TOWN).public.address
    assert address == "Leeds, LS6"
    assert "Secret Street" not in address
    assert "Flat 3" not in address
    assert "3AB" not in address


def test_public_address_town_only_without_postcode():
    location = _location(Location.AddressShown.TOWN)
    location.postcode = ""
    assert location.public.address == "Leeds"


def test_location_default_is_town_only():
    assert Location().address_shown == Location.AddressShown.TOWN


# --------------------------------------------------------------------------- next_meeting

D = datetime.date


def group(weekday=None, frequency="", starts_on=None):
    return Service(group_weekday=weekday, group_frequency=frequency, group_starts_on=starts_on)


def test_next_meeting_without_schedule_is_none():
    assert group().next_meeting(today=D(2025, 3, 10)) is None


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2025, 3, 10), D(2025, 3, 12)),  # Monday -> this Wednesday
        (D(2025, 3, 12), D(2025, 3, 12)),  # Wednesday -> today
        (D(2025, 3, 13), D(2025, 3, 19)),  # Thursday -> next week
        (D(2025, 12, 29), D(2025, 12, 31)),
    ],
)
def test_next_meeting_weekly(today, expected):
    assert group(Service.Weekday.WEDNESDAY, "weekly").next_meeting(today=today) == expected


def test_next_meeting_before_the_first_meeting_is_the_first_meeting():
    service = group(Service.Weekday.TUESDAY, "weekly", starts_on=D(2025, 6, 3))
    assert service.next_meeting(today=D(2025, 3, 10)) == D(2025, 6, 3)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2025, 1, 7), D(2025, 1, 7)),  # the anchor itself
        (D(2025, 1, 8), D(2025, 1, 21)),
        (D(2025, 1, 14), D(2025, 1, 21)),  # a Tuesday in the off week
        (D(2025, 1, 15), D(2025, 1, 21)),
        (D(2025, 1, 21), D(2025, 1, 21)),
        (D(2025, 1, 22), D(2025, 2, 4)),
        (D(2025, 12, 24), D(2026, 1, 6)),  # across the new year
    ],
)
def test_next_meeting_fortnightly_counts_from_the_anchor(today, expected):
    service = group(Service.Weekday.TUESDAY, "fortnightly", starts_on=D(2025, 1, 7))
    assert service.next_meeting(today=today) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (D(2025, 2, 1), D(2025, 2, 11)),
        (D(2025, 2, 11), D(2025, 2, 11)),
        (D(2025, 2, 12), D(2025, 3, 11)),
        (D(2025, 12, 10), D(2026, 1, 13)),
    ],
)
def test_next_meeting_monthly_second_tuesday(today, expected):
    # 14 January 2025 is the second Tuesday of that month.
    service = group(Service.Weekday.TUESDAY, "monthly", starts_on=D(2025, 1, 14))
    result = service.next_meeting(today=today)
    assert result == expected
    assert result.weekday() == Service.Weekday.TUESDAY
    assert 8 <= result.day <= 14


def test_next_meeting_monthly_fifth_tuesday_skips_months_without_one():
    # 31 December 2024 is a fifth Tuesday; the next month with one is April 2025.
    service = group(Service.Weekday.TUESDAY, "monthly", starts_on=D(2024, 12, 31))
    assert service.next_meeting(today=D(2025, 1, 1)) == D(2025, 4, 29)


def test_next_meeting_ignores_an_anchor_on_the_wrong_weekday():
    # The anchor is a Wednesday but the group meets on Tuesdays: fall back to weekly.
    service = group(Service.Weekday.TUESDAY, "fortnightly", starts_on=D(2025, 1, 8))
    assert service.next_meeting(today=D(2025, 1, 15)) == D(2025, 1, 21)
    assert service.next_meeting(today=D(2025, 1, 1)) == D(2025, 1, 7)
