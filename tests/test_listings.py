"""Write-side operations on listings: who may see a listing, and who said so, when."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from reversion.models import Version

from services import listings
from services.models import Provider, Service

pytestmark = pytest.mark.django_db


def assert_just_now(moment: datetime.datetime):
    assert moment is not None
    assert abs(timezone.now() - moment) < datetime.timedelta(minutes=1)


def assert_refused(provider, by, *expected_phrases):
    with pytest.raises(ValidationError) as caught:
        listings.provider_publish(provider=provider, by=by)
    message = " ".join(caught.value.messages)
    assert message.startswith(f"“{provider.name}” cannot be published yet: ")
    for phrase in expected_phrases:
        assert phrase in message
    provider.refresh_from_db()
    assert provider.status == Provider.Status.DRAFT
    assert provider.status_changed_at is None
    assert provider.status_changed_by is None
    assert not Version.objects.get_for_object(provider).exists()
    return message


# --------------------------------------------------------------------------- publish


def test_publish_refuses_a_listing_without_a_service(make_provider, staff_user):
    provider = make_provider("No Services Yet")
    message = assert_refused(provider, staff_user, "it needs at least one service")
    assert message.endswith(".")


def test_publish_refuses_an_in_person_service_without_a_location(
    make_provider, make_service, make_term, staff_user
):
    provider = make_provider("Nowhere To Meet")
    make_service(provider, name="Weekly counselling", offers_in_person=True)
    assert_refused(
        provider, staff_user, "the in-person service “Weekly counselling” needs a location"
    )


def test_publish_accepts_an_online_only_service_without_a_location(
    make_provider, make_service, staff_user
):
    provider = make_provider("Online Only")
    make_service(provider, offers_in_person=False, offers_online=True)
    listings.provider_publish(provider=provider, by=staff_user)
    provider.refresh_from_db()
    assert provider.status == Provider.Status.PUBLISHED


def test_publish_refuses_a_group_without_a_meeting_day(
    make_provider, make_service, support_group_type, staff_user
):
    provider = make_provider("Unscheduled Group")
    make_service(
        provider,
        support_type=support_group_type,
        name="Grief and loss group",
        offers_in_person=False,
        offers_online=True,
    )
    assert_refused(provider, staff_user, "the group “Grief and loss group” needs a meeting day")


def test_publish_refuses_a_listing_without_contact(make_complete_provider, staff_user):
    provider = make_complete_provider("Unreachable", phone="", email="", website="")
    assert_refused(provider, staff_user, "it needs a phone number, an email or a website")


def test_publish_names_every_problem(make_provider, make_service, support_group_type, staff_user):
    provider = make_provider("Many Problems", email="")
    make_service(provider, support_type=support_group_type, name="Evening group")
    message = assert_refused(
        provider,
        staff_user,
        "it needs a phone number, an email or a website",
        "the in-person service “Evening group” needs a location",
        "the group “Evening group” needs a meeting day",
    )
    assert "at least one service" not in message


def test_publish_a_complete_listing(make_complete_provider, staff_user):
    provider = make_complete_provider("Ready To Go")
    result = listings.provider_publish(provider=provider, by=staff_user)
    assert result.status == Provider.Status.PUBLISHED

    provider.refresh_from_db()
    assert provider.status == Provider.Status.PUBLISHED
    assert provider.status_changed_by == staff_user
    assert_just_now(provider.status_changed_at)
    assert Provider.objects.published().get() == provider


def test_publish_a_scheduled_group(make_provider, make_service, support_group_type, staff_user):
    provider = make_provider("Tuesday Group")
    make_service(
        provider,
        support_type=support_group_type,
        offers_in_person=False,
        offers_online=True,
        group_weekday=Service.Weekday.TUESDAY,
        group_frequency=Service.Frequency.WEEKLY,
    )
    listings.provider_publish(provider=provider, by=staff_user)
    provider.refresh_from_db()
    assert provider.status == Provider.Status.PUBLISHED


# --------------------------------------------------------------------------- the others


def test_unpublish_records_who_and_when(make_published_provider, staff_user):
    provider = make_published_provider("Going Quiet")
    listings.provider_unpublish(provider=provider, by=staff_user)
    provider.refresh_from_db()
    assert provider.status == Provider.Status.DRAFT
    assert provider.status_changed_by == staff_user
    assert_just_now(provider.status_changed_at)


def test_archive_records_who_and_when(make_published_provider, editor):
    provider = make_published_provider("Retired")
    listings.provider_archive(provider=provider, by=editor)
    provider.refresh_from_db()
    assert provider.status == Provider.Status.ARCHIVED
    assert provider.status_changed_by == editor
    assert_just_now(provider.status_changed_at)
    assert not Provider.objects.published().exists()


def test_mark_verified_records_who_and_when(make_provider, editor):
    provider = make_provider("Checked", status=Provider.Status.DRAFT)
    assert provider.last_verified is None
    listings.provider_mark_verified(provider=provider, by=editor)
    provider.refresh_from_db()
    assert provider.last_verified == timezone.localdate()
    assert provider.last_verified_by == editor
    # Verifying does not change the status.
    assert provider.status == Provider.Status.DRAFT
    assert provider.status_changed_by is None


# --------------------------------------------------------------------------- history


@pytest.mark.parametrize(
    ("operation", "comment", "status"),
    [
        (listings.provider_publish, "Published.", Provider.Status.PUBLISHED),
        (listings.provider_unpublish, "Unpublished (back to draft).", Provider.Status.DRAFT),
        (listings.provider_archive, "Archived.", Provider.Status.ARCHIVED),
        (listings.provider_mark_verified, "Marked verified.", Provider.Status.DRAFT),
    ],
)
def test_each_operation_creates_a_version(
    make_complete_provider, staff_user, operation, comment, status
):
    provider = make_complete_provider("Versioned")
    assert not Version.objects.get_for_object(provider).exists()

    operation(provider=provider, by=staff_user)

    versions = Version.objects.get_for_object(provider)
    assert versions.count() == 1
    version = versions.get()
    assert version.revision.user == staff_user
    assert version.revision.comment == comment
    assert version.field_dict["status"] == status
    # The inlines are versioned with the listing.
    followed = {v.content_type.model for v in version.revision.version_set.all()}
    assert {"provider", "qualification", "location", "service"} <= followed


def test_versions_accumulate_newest_first(make_complete_provider, staff_user, editor):
    provider = make_complete_provider("Busy")
    listings.provider_publish(provider=provider, by=staff_user)
    listings.provider_mark_verified(provider=provider, by=editor)
    listings.provider_unpublish(provider=provider, by=staff_user)

    versions = list(Version.objects.get_for_object(provider))
    assert [(v.revision.comment, v.revision.user) for v in versions] == [
        ("Unpublished (back to draft).", staff_user),
        ("Marked verified.", editor),
        ("Published.", staff_user),
    ]
    assert versions[2].field_dict["status"] == Provider.Status.PUBLISHED
    assert versions[0].field_dict["status"] == Provider.Status.DRAFT
    assert versions[1].field_dict["last_verified_by_id"] == editor.pk


def test_versions_record_the_saved_listing_not_a_stale_copy(make_complete_provider, staff_user):
    """A caller may hold an out-of-date instance (here: from before publishing).

    The version written by the next operation must still describe the listing as it
    is in the database, or restoring it would quietly undo the publication.
    """
    provider = make_complete_provider("Stale Copy")
    stale = Provider.objects.get(pk=provider.pk)
    listings.provider_publish(provider=provider, by=staff_user)

    listings.provider_mark_verified(provider=stale, by=staff_user)

    latest = Version.objects.get_for_object(provider).first()
    assert latest.revision.comment == "Marked verified."
    assert latest.field_dict["status"] == Provider.Status.PUBLISHED
    assert latest.field_dict["status_changed_by_id"] == staff_user.pk
    provider.refresh_from_db()
    assert provider.status == Provider.Status.PUBLISHED
    assert provider.last_verified == timezone.localdate()
