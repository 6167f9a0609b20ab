"""Personal data goes when the privacy notice says; what the counts and the audit need stays."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from services.enquiries import enquiry_submit
from services.models import Enquiry, OutgoingEmail, Recommendation, Report
from services.recommendations import (
    recommendation_approve,
    recommendation_reject,
    recommendation_submit,
)
from services.reports import report_submit
from services.retention import FORGOTTEN, personal_data_forget

DAY = datetime.timedelta(days=1)


@pytest.fixture
def provider(make_published_provider):
    return make_published_provider("Willow Practice")


def enquiry(provider):
    return enquiry_submit(
        provider=provider,
        name="Sam Reader",
        email="sam@example.org",
        message="I have been low since my mother died.",
        preferred_contact="email",
        consents_to_processing=True,
        wants_follow_up=True,
        came_from="near=Leeds&concern=grief",
    )


def test_an_enquiry_is_kept_for_the_period_then_its_words_go(provider, settings):
    settings.KEEP_ENQUIRIES_DAYS = 90
    sent = enquiry(provider)
    now = timezone.now()
    assert personal_data_forget(now=now + 89 * DAY).enquiries == 0
    done = personal_data_forget(now=now + 91 * DAY)
    assert (done.enquiries, done.emails) == (1, 1)
    sent.refresh_from_db()
    assert (sent.name, sent.email, sent.phone, sent.message, sent.came_from) == ("",) * 5
    # What the reply rates and the audit need stays.
    assert sent.provider == provider and sent.created_at and sent.forgotten_at
    email = OutgoingEmail.objects.get()
    assert email.body == FORGOTTEN and email.to == "" and "mother" not in email.subject
    assert email.state == OutgoingEmail.State.SENT


def test_running_twice_changes_nothing_more(provider):
    enquiry(provider)
    later = timezone.now() + 200 * DAY
    personal_data_forget(now=later)
    again = personal_data_forget(now=later)
    assert (again.enquiries, again.emails, again.reports, again.recommendations) == (0, 0, 0, 0)


def test_a_closed_report_loses_its_details_after_the_period(provider, staff_user, settings):
    settings.KEEP_REPORTS_DAYS = 180
    report = report_submit(
        provider=provider,
        problem=Report.Problem.OTHER,
        details="They told me on the phone they have retired.",
        reporter_email="reader@example.org",
    )
    open_report = report_submit(provider=provider, problem=Report.Problem.PHONE)
    Report.objects.filter(pk=report.pk).update(
        status=Report.Status.RESOLVED, closed_at=timezone.now()
    )
    assert personal_data_forget(now=timezone.now() + 179 * DAY).reports == 0
    assert personal_data_forget(now=timezone.now() + 181 * DAY).reports == 1
    report.refresh_from_db()
    assert (report.details, report.reporter_email) == ("", "")
    assert report.problem == Report.Problem.OTHER and report.status == Report.Status.RESOLVED
    open_report.refresh_from_db()
    assert open_report.forgotten_at is None  # staff still need it


def test_recommenders_emails_go_and_rejected_words_too(provider, staff_user, settings):
    settings.KEEP_RECOMMENDATIONS_DAYS = 90

    def submitted(name):
        return recommendation_submit(
            provider=provider,
            author_name=name,
            relationship=Recommendation.Relationship.COLLEAGUE,
            author_email=f"{name.lower()}@example.org",
            text=f"{name} says they are careful and kind.",
            consents_to_publication=True,
        )

    approved = recommendation_approve(recommendation=submitted("Jo"), by=staff_user)
    rejected = recommendation_reject(recommendation=submitted("Ann"), by=staff_user)
    assert personal_data_forget(now=timezone.now() + 91 * DAY).recommendations == 2
    approved.refresh_from_db()
    rejected.refresh_from_db()
    assert approved.author_email == "" and approved.text == "Jo says they are careful and kind."
    assert rejected.author_email == "" and rejected.text == FORGOTTEN and rejected.author_name == ""


def test_the_command_says_what_it_did(provider):
    out = io.StringIO()
    call_command("forget_personal_data", stdout=out)
    assert "0 enquiries" in out.getvalue()
    assert Enquiry.objects.count() == 0
