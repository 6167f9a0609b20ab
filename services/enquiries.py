"""Enquiries from the public to providers: stored, then emailed through the outbox."""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from services.models import Enquiry, OutgoingEmail, Provider
from services.outbox import email_queue
from services.upkeep.replies import answer_links, reply_due


@transaction.atomic
def enquiry_submit(
    *,
    provider: Provider,
    name: str,
    message: str,
    preferred_contact: str,
    email: str = "",
    phone: str = "",
    consents_to_processing: bool = False,
    wants_follow_up: bool = False,
    came_from: str = "",
) -> Enquiry:
    """Store the enquiry and its email to the provider; the worker sends it, so the person
    is answered at once whatever the mail server does, and nothing they wrote is lost."""
    enquiry = Enquiry(
        provider=provider,
        name=name,
        email=email,
        phone=phone,
        message=message,
        preferred_contact=preferred_contact,
        consents_to_processing=consents_to_processing,
        wants_follow_up=wants_follow_up and bool(email),
        # What it keeps of the search serves only the follow-up the person asked for.
        came_from=came_from if wants_follow_up else "",
        reply_due_at=reply_due(timezone.now()),
    )
    enquiry.full_clean()
    enquiry.save()
    if provider.email:
        enquiry.email_to_provider = email_queue(
            purpose=OutgoingEmail.Purpose.ENQUIRY,
            to=provider.email,
            subject=f"A message from {enquiry.name} through {settings.SITE_NAME}",
            body=render_to_string(
                "services/email/enquiry.txt",
                {
                    "enquiry": enquiry,
                    "provider": provider,
                    "site_name": settings.SITE_NAME,
                    "answer_url": answer_links(enquiry),
                    "working_days": settings.REPLY_WORKING_DAYS,
                },
            ),
            reply_to=enquiry.email,
        )
        enquiry.save(update_fields=["email_to_provider"])
    return enquiry
