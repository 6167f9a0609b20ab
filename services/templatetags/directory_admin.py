"""The admin index's summary: how long ago listings were verified, and what waits for staff."""

import datetime

from django import template
from django.db.models import Count, Q
from django.utils import timezone

from services.models import (
    REVIEW_AFTER_DAYS,
    OutgoingEmail,
    ProposedChange,
    Provider,
    Recommendation,
    Report,
)
from services.upkeep.availability import availability_counts

register = template.Library()

HALF_A_YEAR = 183


@register.inclusion_tag("admin/includes/_listing_ages.html", takes_context=True)
def listing_ages(context):
    """Published listings by verification age (one aggregate), and the moderation queues."""
    user = context["request"].user
    if not user.has_perm("services.view_provider"):
        return {"shown": False}
    today = timezone.localdate()
    half_a_year_ago = today - datetime.timedelta(days=HALF_A_YEAR)
    a_year_ago = today - datetime.timedelta(days=REVIEW_AFTER_DAYS)
    ages = Provider.objects.published().aggregate(
        recent=Count("pk", filter=Q(last_verified__gte=half_a_year_ago)),
        older=Count(
            "pk", filter=Q(last_verified__gte=a_year_ago, last_verified__lt=half_a_year_ago)
        ),
        stale=Count("pk", filter=Q(last_verified__lt=a_year_ago)),
        never=Count("pk", filter=Q(last_verified__isnull=True)),
    )
    rows = [
        ("In the last 6 months", ages["recent"], "6m"),
        ("6 to 12 months ago", ages["older"], "12m"),
        ("Over 12 months ago", ages["stale"], "stale"),
        ("Never", ages["never"], "never"),
    ]
    return {
        "shown": True,
        "rows": rows,
        "total": sum(count for _label, count, _key in rows),
        "needs_review": Provider.objects.needs_review(today).count(),
        "open_reports": Report.objects.filter(status=Report.Status.OPEN).count(),
        "pending_recommendations": Recommendation.objects.pending().count(),
        "changes_waiting": ProposedChange.objects.waiting().count(),
        "unsent_emails": OutgoingEmail.objects.exclude(state=OutgoingEmail.State.SENT).count(),
        "availability": availability_counts(),
    }
