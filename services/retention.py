"""Personal data is kept only as long as the privacy notice says (the KEEP_*_DAYS settings).

What people wrote and how to reach them is deleted; what the counts and the audit need
stays: when an enquiry was sent and to whom, a report's problem and outcome, an approved
recommendation that its author agreed to publish. Safe to run any number of times.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from services.models import Enquiry, OutgoingEmail, Recommendation, Report

FORGOTTEN = "(deleted after the time our privacy notice gives)"


@dataclass
class Forgotten:
    enquiries: int = 0
    emails: int = 0
    reports: int = 0
    recommendations: int = 0

    def __str__(self):
        return (
            f"{self.enquiries} enquiries, {self.emails} emails, {self.reports} reports and "
            f"{self.recommendations} recommendations forgotten."
        )


def _before(days: int, now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=days)


@transaction.atomic
def personal_data_forget(*, now: datetime.datetime | None = None) -> Forgotten:
    """Delete the personal content older than the notice's periods; returns the counts."""
    now = now or timezone.now()
    done = Forgotten()
    enquiries = _before(settings.KEEP_ENQUIRIES_DAYS, now)
    done.enquiries = Enquiry.objects.filter(created_at__lt=enquiries, forgotten_at=None).update(
        name="", email="", phone="", message="", came_from="", forgotten_at=now
    )
    # Every email the site sent holds what it carried (an enquiry's words, a sign-in link).
    done.emails = (
        OutgoingEmail.objects.filter(created_at__lt=enquiries)
        .exclude(body=FORGOTTEN)
        .update(to="", reply_to="", subject=FORGOTTEN, body=FORGOTTEN)
    )
    reports = _before(settings.KEEP_REPORTS_DAYS, now)
    done.reports = (
        Report.objects.filter(closed_at__lt=reports, forgotten_at=None)
        .exclude(status=Report.Status.OPEN)
        .update(details="", reporter_email="", forgotten_at=now)
    )
    recommendations = _before(settings.KEEP_RECOMMENDATIONS_DAYS, now)
    decided = Recommendation.objects.filter(moderated_at__lt=recommendations)
    rejected = Q(status=Recommendation.Status.REJECTED)
    ids = list(
        decided.filter(~Q(author_email="") | (rejected & ~Q(text=FORGOTTEN))).values_list(
            "pk", flat=True
        )
    )
    # The author's email was only for staff's check; a rejected one was never shown.
    Recommendation.objects.filter(pk__in=ids).update(author_email="")
    Recommendation.objects.filter(rejected, pk__in=ids).update(
        author_name="", author_role="", text=FORGOTTEN
    )
    done.recommendations = len(ids)
    return done
