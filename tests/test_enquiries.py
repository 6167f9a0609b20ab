"""Enquiries: stored before any email, their delivery kept, failed sends retried by a command."""

import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from services.enquiries import (
    SEND_LEASE,
    enquiries_to_retry,
    enquiry_retry_now,
    enquiry_send,
    enquiry_submit,
)
from services.models import Enquiry

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(make_published_provider):
    return make_published_provider("Marlow Ashby", email="marlow@example.org")


@pytest.fixture
def enquiry(provider):
    return enquiry_submit(
        provider=provider,
        name="Robin",
        email="",
        phone="07700 900123",
        message="Could we talk on the phone?",
        preferred_contact="phone",
    )


@pytest.fixture
def mail_down(monkeypatch):
    def refuse(self, fail_silently=False):
        raise TimeoutError("timed out")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    return monkeypatch


def test_submit_stores_and_sends_nothing(enquiry):
    assert enquiry.pk
    assert (enquiry.delivery, enquiry.attempts) == ("pending", 0)
    assert not mail.outbox


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "", "phone": "", "preferred_contact": "email"}, "email"),
        ({"email": "", "phone": "07700 900123", "preferred_contact": "email"}, "email"),
        ({"email": "a@example.org", "phone": "", "preferred_contact": "phone"}, "phone"),
    ],
)
def test_submit_needs_a_way_to_reply(provider, fields, field):
    with pytest.raises(ValidationError) as error:
        enquiry_submit(provider=provider, name="Robin", message="Hello", **fields)
    assert field in error.value.message_dict
    assert not Enquiry.objects.exists()


def test_send_records_success(enquiry):
    sent = enquiry_send(enquiry=enquiry)
    assert (sent.delivery, sent.attempts, sent.sent_to) == ("sent", 1, "marlow@example.org")
    [email] = mail.outbox
    assert email.reply_to == []  # no email address given: the provider phones back
    assert "How they would like you to reply: phone" in email.body
    assert "Phone: 07700 900123" in email.body
    # Sending again is refused: a sent enquiry is never sent twice.
    assert enquiry_send(enquiry=enquiry).attempts == 1
    assert len(mail.outbox) == 1


def test_a_failure_is_kept_and_the_command_retries_it(enquiry, mail_down):
    failed = enquiry_send(enquiry=enquiry)
    assert (failed.delivery, failed.attempts) == ("failed", 1)
    assert failed.last_error == "TimeoutError: timed out"
    # Not retried while the last try is recent (another sender may be on it).
    assert list(enquiries_to_retry()) == []

    mail_down.undo()
    Enquiry.objects.filter(pk=enquiry.pk).update(
        last_attempt_at=timezone.now() - SEND_LEASE - datetime.timedelta(seconds=1)
    )
    out = StringIO()
    call_command("send_enquiries", stdout=out)
    assert out.getvalue().strip() == "Sent 1, failed 0 (will retry), gave up on 0."
    enquiry.refresh_from_db()
    assert (enquiry.delivery, enquiry.attempts, enquiry.last_error) == ("sent", 2, "")
    assert len(mail.outbox) == 1


def test_the_command_gives_up_after_the_last_attempt(enquiry, mail_down, settings):
    settings.ENQUIRY_MAX_ATTEMPTS = 3
    for attempt in range(1, 4):
        Enquiry.objects.filter(pk=enquiry.pk).update(
            last_attempt_at=timezone.now() - datetime.timedelta(hours=1)
        )
        call_command("send_enquiries", stdout=StringIO())
        enquiry.refresh_from_db()
        assert enquiry.attempts == attempt
    assert enquiry.delivery == "gave_up"
    assert list(enquiries_to_retry(now=timezone.now() + datetime.timedelta(days=1))) == []
    # Staff can still ask for one more try.
    mail_down.undo()
    assert enquiry_retry_now(enquiry=enquiry).delivery == "sent"


def test_a_pending_enquiry_whose_send_never_happened_is_picked_up(enquiry):
    assert list(enquiries_to_retry()) == []
    later = timezone.now() + SEND_LEASE + datetime.timedelta(seconds=1)
    assert list(enquiries_to_retry(now=later)) == [enquiry]


def test_staff_see_enquiries_and_retry_them(staff_client, enquiry, mail_down):
    enquiry_send(enquiry=enquiry)
    response = staff_client.get("/admin/services/enquiry/")
    assert response.status_code == 200
    assert "Failed; will be retried" in response.content.decode()
    mail_down.undo()
    response = staff_client.post(
        "/admin/services/enquiry/",
        {"action": "send_again", "_selected_action": [enquiry.pk], "index": 0},
        follow=True,
    )
    assert "1 of 1 sent." in [str(m) for m in response.context["messages"]]
    assert staff_client.get("/admin/services/enquiry/add/").status_code == 403


def test_editor_reads_enquiries_but_cannot_delete_them(editor_client, enquiry):
    assert editor_client.get(f"/admin/services/enquiry/{enquiry.pk}/change/").status_code == 200
    response = editor_client.post(f"/admin/services/enquiry/{enquiry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert Enquiry.objects.filter(pk=enquiry.pk).exists()
