"""The outbox: enquiries stored with their email, sent by the background worker, retried;
no request waits on the mail server."""

import datetime
import os
import socket
import subprocess
import sys
import threading
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from services import outbox
from services.enquiries import enquiry_submit
from services.models import Enquiry, OutgoingEmail
from services.outbox import SEND_LEASE, email_deliver, email_retry_now, email_send, emails_due

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def provider(make_published_provider):
    return make_published_provider("Marlow Ashby", email="marlow@example.org")


def submit(provider, **fields):
    return enquiry_submit(
        provider=provider,
        **{
            "name": "Robin",
            "email": "",
            "phone": "07700 900123",
            "message": "Could we talk on the phone?",
            "preferred_contact": "phone",
            **fields,
        },
    )


@pytest.fixture
def mail_down(monkeypatch):
    def refuse(self, fail_silently=False):
        raise TimeoutError("timed out")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    return monkeypatch


def due(email: OutgoingEmail) -> None:
    """As if the next attempt's time had come."""
    OutgoingEmail.objects.filter(pk=email.pk).update(
        next_attempt_at=timezone.now(), last_attempt_at=timezone.now() - SEND_LEASE * 2
    )


# --------------------------------------------------------------------------- enquiries


def test_an_enquiry_is_stored_with_its_email_and_the_task_sends_it(provider):
    enquiry = submit(provider)
    email = Enquiry.objects.select_related("email_to_provider").get(pk=enquiry.pk).email_to_provider
    assert (email.state, email.attempts, email.to) == ("sent", 1, "marlow@example.org")
    assert email.purpose == "enquiry"
    [sent] = mail.outbox
    assert sent.reply_to == []  # no email address given: the provider phones back
    assert "How they would like you to reply: phone" in sent.body
    assert "Phone: 07700 900123" in sent.body
    # Sending again is refused: a sent email is never sent twice.
    assert email_send(email_id=email.pk) is None
    assert len(mail.outbox) == 1


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
        submit(provider, **fields)
    assert field in error.value.message_dict
    assert not Enquiry.objects.exists()
    assert not OutgoingEmail.objects.exists()


@pytest.fixture
def hanging_mail_server(settings):
    """An SMTP server that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []
    stop = threading.Event()

    def serve():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = listener.getsockname()
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 1
    yield accepted
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_no_request_waits_on_the_mail_server(client, provider, hanging_mail_server, settings):
    settings.TASKS = DATABASE_TASKS
    response = client.post(
        reverse("services:provider_contact", kwargs={"slug": provider.slug}),
        {
            "name": "Sam",
            "email": "sam@example.org",
            "phone": "",
            "preferred_contact": "email",
            "message": "Hello",
            "consents_to_processing": "on",
        },
    )
    assert response.status_code == 302
    # The request never spoke to the mail server: the email waits for the worker.
    assert hanging_mail_server == []
    email = OutgoingEmail.objects.get()
    assert (email.state, email.attempts) == ("waiting", 0)
    [queued] = DBTaskResult.objects.filter(status="READY")
    assert queued.task_path == "services.outbox.email_deliver"
    assert queued.args_kwargs == {"args": [email.pk], "kwargs": {}}

    # The worker's attempt times out, is recorded, and its retry is queued for later.
    before = timezone.now()
    assert email_deliver.call(email.pk) == "failed"
    assert len(hanging_mail_server) == 1
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("failed", 1)
    assert email.last_error.startswith(("TimeoutError", "SMTPServerDisconnected"))
    assert email.next_attempt_at - before >= datetime.timedelta(minutes=1)
    retry = DBTaskResult.objects.exclude(pk=queued.pk).get()
    assert retry.run_after == email.next_attempt_at
    assert retry.args_kwargs == {"args": [email.pk], "kwargs": {}}


def test_a_failure_is_retried_later_further_apart_then_given_up(provider, mail_down, settings):
    settings.EMAIL_MAX_ATTEMPTS = 3
    email = submit(provider).email_to_provider
    email.refresh_from_db()
    assert (email.state, email.attempts, email.last_error) == (
        "failed",
        1,
        "TimeoutError: timed out",
    )
    first_wait = email.next_attempt_at - email.last_attempt_at
    # Not due yet, so not retried by the safety net either.
    assert list(emails_due()) == []

    due(email)
    call_command("send_emails", stdout=StringIO())
    email.refresh_from_db()
    assert (email.state, email.attempts) == ("failed", 2)
    assert email.next_attempt_at - email.last_attempt_at > first_wait

    due(email)
    call_command("send_emails", stdout=StringIO())
    email.refresh_from_db()
    assert (email.state, email.attempts, email.next_attempt_at) == ("gave_up", 3, None)
    assert list(emails_due(now=timezone.now() + datetime.timedelta(days=1))) == []

    # Staff can still ask for one more try, and the worker makes it.
    mail_down.undo()
    email_retry_now(email=email)
    email.refresh_from_db()
    assert (email.state, email.attempts, email.last_error) == ("sent", 4, "")
    assert len(mail.outbox) == 1


def test_a_waiting_email_whose_task_was_lost_is_sent_by_the_safety_net(provider, settings):
    settings.TASKS = DATABASE_TASKS
    email = submit(provider).email_to_provider
    DBTaskResult.objects.all().delete()  # the task is lost
    assert list(emails_due()) == []  # a worker may still be about to take it
    OutgoingEmail.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - SEND_LEASE - datetime.timedelta(seconds=1)
    )
    out = StringIO()
    call_command("send_emails", stdout=out)
    assert out.getvalue().strip() == (
        "Sent 1, failed 0 (will retry), gave up on 0; 0 were being sent by another sender."
    )
    assert len(mail.outbox) == 1


def test_overlapping_runs_count_only_what_each_sent(provider, settings, monkeypatch):
    settings.TASKS = DATABASE_TASKS  # nothing is sent until a run sends it
    emails = [submit(provider, name=f"Robin {n}").email_to_provider for n in range(5)]
    OutgoingEmail.objects.update(created_at=timezone.now() - SEND_LEASE * 2)
    listed = [email.pk for email in emails_due()]
    assert len(listed) == 5
    # Another run takes two of them after this run listed them, before it reached them.
    for email in emails[:2]:
        assert outbox._claim(email.pk, timezone.now())
    monkeypatch.setattr(
        "services.management.commands.send_emails.emails_due",
        lambda: OutgoingEmail.objects.filter(pk__in=listed),
    )
    out = StringIO()
    call_command("send_emails", stdout=out)
    assert out.getvalue().strip() == (
        "Sent 3, failed 0 (will retry), gave up on 0; 2 were being sent by another sender."
    )
    assert len(mail.outbox) == 3


def test_the_old_command_name_still_works(provider, settings):
    settings.TASKS = DATABASE_TASKS
    submit(provider)
    OutgoingEmail.objects.update(created_at=timezone.now() - SEND_LEASE * 2)
    out = StringIO()
    call_command("send_enquiries", stdout=out)
    assert out.getvalue().startswith("Sent 1,")


def test_staff_see_the_outbox_and_send_again(staff_client, provider, mail_down):
    enquiry = submit(provider)
    response = staff_client.get("/admin/services/enquiry/")
    assert "Failed; will be retried" in response.content.decode()
    response = staff_client.get("/admin/services/outgoingemail/")
    assert "A message from Robin" in response.content.decode()
    assert "Emails not sent yet" in staff_client.get("/admin/").content.decode()
    mail_down.undo()
    response = staff_client.post(
        "/admin/services/enquiry/",
        {"action": "send_again", "_selected_action": [enquiry.pk], "index": 0},
        follow=True,
    )
    assert "1 queued to be sent again; the outbox shows how each goes." in [
        str(m) for m in response.context["messages"]
    ]
    assert OutgoingEmail.objects.get().state == "sent"
    assert staff_client.get("/admin/services/enquiry/add/").status_code == 403
    assert staff_client.get("/admin/services/outgoingemail/add/").status_code == 403


def test_editor_reads_the_outbox_but_cannot_delete_from_it(editor_client, provider):
    enquiry = submit(provider)
    email = enquiry.email_to_provider
    assert editor_client.get(f"/admin/services/enquiry/{enquiry.pk}/change/").status_code == 200
    assert editor_client.get(f"/admin/services/outgoingemail/{email.pk}/change/").status_code == 200
    response = editor_client.post(
        f"/admin/services/outgoingemail/{email.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert OutgoingEmail.objects.filter(pk=email.pk).exists()


# --------------------------------------------------------------------------- the real worker


def test_the_real_worker_sends_a_queued_email(fresh_database_url, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database_url,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    env.pop("DJANGO_TASKS_BACKEND", None)

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        ).stdout

    manage("migrate", "--noinput", "-v0")
    manage(
        "shell",
        "-c",
        "from services.outbox import email_queue; "
        "email_queue(purpose='enquiry', to='worker@example.org', "
        "subject='Hello from the outbox', body='Sent by the worker.')",
        "--no-imports",
    )
    assert not (tmp_path / "mail").exists()  # queued, not sent
    manage("db_worker", "--batch", "--no-startup-delay", "--no-reload", "-v0")
    state = manage(
        "shell",
        "-c",
        "from services.models import OutgoingEmail; print(OutgoingEmail.objects.get().state)",
        "--no-imports",
    )
    assert state.strip() == "sent"
    [sent] = (tmp_path / "mail").iterdir()
    assert "Subject: Hello from the outbox" in sent.read_text()
    assert "worker@example.org" in sent.read_text()


# --------------------------------------------------------------------------- the move


@pytest.mark.django_db(transaction=True)
def test_existing_enquiries_keep_their_delivery_in_the_outbox(provider):
    before = ("services", "0015_editor_group")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    OldEnquiry = executor.loader.project_state([before]).apps.get_model("services", "Enquiry")
    common = {"provider_id": provider.pk, "phone": "07700 900123", "preferred_contact": "phone"}
    OldEnquiry.objects.create(
        name="Sent one",
        message="Hi",
        delivery="sent",
        attempts=1,
        sent_to="old@example.org",
        **common,
    )
    OldEnquiry.objects.create(name="Waiting one", message="Please call me", **common)
    OldEnquiry.objects.create(
        name="Failed one",
        message="Hi",
        delivery="failed",
        attempts=2,
        last_error="TimeoutError: timed out",
        last_attempt_at=timezone.now(),
        **common,
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = {
        e.name: e.email_to_provider for e in Enquiry.objects.select_related("email_to_provider")
    }
    assert (moved["Sent one"].state, moved["Sent one"].to) == ("sent", "old@example.org")
    assert (moved["Waiting one"].state, moved["Waiting one"].to) == (
        "waiting",
        "marlow@example.org",
    )
    assert "Please call me" in moved["Waiting one"].body
    assert (moved["Failed one"].state, moved["Failed one"].attempts) == ("failed", 2)
    assert moved["Failed one"].last_error == "TimeoutError: timed out"
    # The unsent ones, whose tasks never existed, are the safety net's once their lease is over.
    later = timezone.now() + SEND_LEASE * 2
    assert {email.enquiry.name for email in emails_due(now=later)} == {"Waiting one", "Failed one"}
