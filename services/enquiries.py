"""Enquiries from the public to providers: stored first, then emailed, retried when a send fails."""

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from services.models import Enquiry, Provider

logger = logging.getLogger(__name__)

# A send in progress holds its enquiry this long; after it, a retry may take it over
# (a worker that died mid-send must not leave an enquiry stuck).
SEND_LEASE = datetime.timedelta(minutes=5)


def enquiry_submit(
    *,
    provider: Provider,
    name: str,
    message: str,
    preferred_contact: str,
    email: str = "",
    phone: str = "",
) -> Enquiry:
    """Store the enquiry; nothing is sent yet, so nothing the person wrote can be lost."""
    enquiry = Enquiry(
        provider=provider,
        name=name,
        email=email,
        phone=phone,
        message=message,
        preferred_contact=preferred_contact,
    )
    enquiry.full_clean()
    enquiry.save()
    return enquiry


def _claim(enquiry: Enquiry, now: datetime.datetime) -> bool:
    """Take the enquiry for one send attempt; False if it is sent or another send holds it."""
    claimed = (
        Enquiry.objects.filter(
            pk=enquiry.pk, delivery__in=[Enquiry.Delivery.PENDING, Enquiry.Delivery.FAILED]
        )
        .filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=now - SEND_LEASE))
        .update(last_attempt_at=now)
    )
    return bool(claimed)


def _email(enquiry: Enquiry) -> EmailMessage:
    context = {"enquiry": enquiry, "provider": enquiry.provider, "site_name": settings.SITE_NAME}
    return EmailMessage(
        subject=f"A message from {enquiry.name} through {settings.SITE_NAME}",
        body=render_to_string("services/email/enquiry.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[enquiry.provider.email],
        reply_to=[enquiry.email] if enquiry.email else None,
    )


def enquiry_send(*, enquiry: Enquiry) -> Enquiry:
    """Email the enquiry to the provider and record how it went; a failure is kept for a retry."""
    now = timezone.now()
    if not _claim(enquiry, now):
        enquiry.refresh_from_db()
        return enquiry
    # As saved, with the provider's address as it is now.
    enquiry = Enquiry.objects.select_related("provider").get(pk=enquiry.pk)
    update = {"attempts": enquiry.attempts + 1, "last_attempt_at": now}
    if not enquiry.provider.email:
        update.update(delivery=Enquiry.Delivery.GAVE_UP, last_error="The listing has no email.")
    else:
        try:
            _email(enquiry).send(fail_silently=False)
        except Exception as error:  # SMTP, DNS, TLS, timeouts: all mean "try again later"
            logger.warning("Enquiry %s could not be sent: %s", enquiry.pk, error)
            gave_up = update["attempts"] >= settings.ENQUIRY_MAX_ATTEMPTS
            update.update(
                delivery=Enquiry.Delivery.GAVE_UP if gave_up else Enquiry.Delivery.FAILED,
                last_error=f"{type(error).__name__}: {error}"[:500],
            )
        else:
            update.update(
                delivery=Enquiry.Delivery.SENT,
                sent_at=timezone.now(),
                sent_to=enquiry.provider.email,
                last_error="",
            )
    Enquiry.objects.filter(pk=enquiry.pk).update(**update)
    for name, value in update.items():
        setattr(enquiry, name, value)
    return enquiry


def enquiries_to_retry(*, now: datetime.datetime | None = None):
    """Enquiries not sent yet and not being sent: failed ones whose last try is over
    SEND_LEASE ago, and pending ones whose send in the request never happened."""
    now = now or timezone.now()
    return (
        Enquiry.objects.filter(delivery__in=[Enquiry.Delivery.PENDING, Enquiry.Delivery.FAILED])
        .filter(
            Q(last_attempt_at__lt=now - SEND_LEASE)
            | Q(last_attempt_at__isnull=True, created_at__lt=now - SEND_LEASE)
        )
        .select_related("provider")
        .order_by("created_at")
    )


def enquiry_retry_now(*, enquiry: Enquiry) -> Enquiry:
    """Staff asked to send it again: one more try, even after the retries gave up."""
    Enquiry.objects.filter(pk=enquiry.pk).exclude(delivery=Enquiry.Delivery.SENT).update(
        delivery=Enquiry.Delivery.FAILED, last_attempt_at=None
    )
    return enquiry_send(enquiry=enquiry)
