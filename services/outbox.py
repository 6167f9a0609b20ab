"""Every email the site sends: stored in the outbox, sent by the background worker, retried.

No request waits on the mail server. `email_queue()` stores the email and enqueues its
send in the same transaction (the task's row lives in the same database as the email's
under django-tasks-db), so either both are kept or neither. The worker (`manage.py
db_worker`) makes one attempt per task; a failure is recorded with the time of the next
attempt, and the retry is enqueued for then. `manage.py send_emails`, from cron, is the
safety net: it sends whatever is due and not being sent, should a task ever be lost.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from services.models import OutgoingEmail

logger = logging.getLogger(__name__)

# A send in progress holds its email this long; after it, another sender may take it over
# (a worker that died mid-send must not leave an email stuck). Longer than EMAIL_TIMEOUT.
SEND_LEASE = datetime.timedelta(minutes=5)
# Minutes before the next try after each failure: soon at first, then further apart, so a
# mail server that is down for an afternoon is not hammered, and one that blinked is not waited on.
RETRY_AFTER_MINUTES = [1, 5, 30, 120, 360]

UNSENT = [OutgoingEmail.State.WAITING, OutgoingEmail.State.FAILED]


def email_queue(
    *, purpose: str, to: str, subject: str, body: str, reply_to: str = ""
) -> OutgoingEmail:
    """Store an email and ask the worker to send it; returns at once."""
    email = OutgoingEmail(purpose=purpose, to=to, subject=subject, body=body, reply_to=reply_to)
    email.full_clean()
    email.save()
    email_deliver.enqueue(email.pk)
    return email


@task()
def email_deliver(email_id: int) -> str:
    """The worker's task: one attempt, and the retry enqueued for later if it failed."""
    email = email_send(email_id=email_id)
    if email is None:
        return "taken by another sender, or sent already"
    if email.state == OutgoingEmail.State.FAILED and email_deliver.get_backend().supports_defer:
        email_deliver.using(run_after=email.next_attempt_at).enqueue(email.pk)
    return email.state


def _claim(email_id: int, now: datetime.datetime) -> bool:
    """Take the email for one attempt: one UPDATE, so two senders never both get it."""
    return bool(
        OutgoingEmail.objects.filter(pk=email_id, state__in=UNSENT)
        .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=now - SEND_LEASE))
        .update(last_attempt_at=now)
    )


def email_send(*, email_id: int) -> OutgoingEmail | None:
    """Try to send the email once and record how it went. None when it was not ours to send:
    sent already, given up, or held by another sender."""
    now = timezone.now()
    if not _claim(email_id, now):
        return None
    email = OutgoingEmail.objects.get(pk=email_id)
    attempts = email.attempts + 1
    update = {"attempts": attempts, "last_attempt_at": now}
    try:
        EmailMessage(
            subject=email.subject,
            body=email.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[email.to],
            reply_to=[email.reply_to] if email.reply_to else None,
        ).send(fail_silently=False)
    except Exception as error:  # SMTP, DNS, TLS, timeouts: all mean "try again later"
        logger.warning("Email %s could not be sent: %s", email.pk, type(error).__name__)
        gave_up = attempts >= settings.EMAIL_MAX_ATTEMPTS
        delay = RETRY_AFTER_MINUTES[min(attempts, len(RETRY_AFTER_MINUTES)) - 1]
        update.update(
            state=OutgoingEmail.State.GAVE_UP if gave_up else OutgoingEmail.State.FAILED,
            next_attempt_at=None if gave_up else now + datetime.timedelta(minutes=delay),
            last_error=f"{type(error).__name__}: {error}"[:500],
        )
    else:
        update.update(
            state=OutgoingEmail.State.SENT,
            sent_at=timezone.now(),
            next_attempt_at=None,
            last_error="",
        )
    OutgoingEmail.objects.filter(pk=email.pk).update(**update)
    for name, value in update.items():
        setattr(email, name, value)
    return email


def emails_due(*, now: datetime.datetime | None = None):
    """Unsent emails that nobody is sending: failed ones whose next attempt is due, and
    waiting ones that no worker took within SEND_LEASE (their task was lost)."""
    now = now or timezone.now()
    return OutgoingEmail.objects.filter(
        Q(state=OutgoingEmail.State.FAILED, next_attempt_at__lte=now)
        | Q(state=OutgoingEmail.State.WAITING, created_at__lt=now - SEND_LEASE)
    ).filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=now - SEND_LEASE))


def email_retry_now(*, email: OutgoingEmail) -> None:
    """Staff asked to send it again: the worker makes one more try, even after it gave up."""
    OutgoingEmail.objects.filter(pk=email.pk).exclude(state=OutgoingEmail.State.SENT).update(
        state=OutgoingEmail.State.FAILED, last_attempt_at=None, next_attempt_at=timezone.now()
    )
    email_deliver.enqueue(email.pk)
