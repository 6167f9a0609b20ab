""" "Taking new clients" lapses unless the provider confirms it.

AVAILABILITY_CONFIRM_DAYS after the last confirmation, a published listing that says it takes
new clients is sent a reminder with three one-click links: still taking, not now, update my
listing. Unanswered AVAILABILITY_GRACE_DAYS after the reminder, it lapses: the listing says
since when it is unconfirmed, and stops matching "taking new clients" (Provider.accepting_now).
A listing with no email cannot be reminded; it lapses as long after its last confirmation.
Any confirmation ends the lapse (Provider.save), and a pause for unanswered enquiries too.

Both steps pick their listings from what is stored, and record what they did in the same
transaction: run twice, they do nothing more.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from services.indexing import search_index_update
from services.models import OutgoingEmail, Provider
from services.my_listing.access import email_normalised
from services.my_listing.editing import listing_edit
from services.outbox import email_queue
from services.upkeep import links

KIND = "availability"
ANSWERS = ("yes", "no", "update")


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def link_max_age() -> datetime.timedelta:
    """A reminder's links work until the next reminder would be due."""
    return _days(settings.AVAILABILITY_CONFIRM_DAYS + settings.AVAILABILITY_GRACE_DAYS)


def _unconfirmed_since(day: datetime.date) -> Q:
    return Q(accepting_confirmed_on__isnull=True) | Q(accepting_confirmed_on__lte=day)


def reminders_due(today: datetime.date):
    """Published listings taking new clients, unconfirmed for a month, not reminded since."""
    return (
        Provider.objects.published()
        .filter(accepting_new_clients=True, availability_lapsed=False)
        .exclude(email="")
        .filter(_unconfirmed_since(today - _days(settings.AVAILABILITY_CONFIRM_DAYS)))
        .filter(
            Q(availability_reminded_on__isnull=True)
            | Q(availability_reminded_on__lte=F("accepting_confirmed_on"))
        )
    )


def availability_remind(*, today: datetime.date | None = None, batch_size: int = 500) -> int:
    """Queue the reminders due; the number queued."""
    today = today or timezone.localdate()
    sent = 0
    while True:
        with transaction.atomic():
            batch = list(
                reminders_due(today)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .only("pk", "uuid", "name", "email", "accepting_confirmed_on", "wait_weeks")[
                    :batch_size
                ]
            )
            if not batch:
                return sent
            for provider in batch:
                _reminder_queue(provider, today)
            Provider.objects.filter(pk__in=[p.pk for p in batch]).update(
                availability_reminded_on=today
            )
            sent += len(batch)


def _reminder_queue(provider: Provider, today: datetime.date) -> None:
    token = links.token_make(KIND, provider.pk, email_normalised(provider.email), today.isoformat())
    answer_url = {
        answer: links.link(settings.SITE_URL, "services:availability_answer", token, answer)
        for answer in ANSWERS
    }
    email_queue(
        purpose=OutgoingEmail.Purpose.AVAILABILITY,
        to=provider.email,
        subject=f"Are you still taking new clients? Your listing on {settings.SITE_NAME}",
        body=render_to_string(
            "services/email/availability_reminder.txt",
            {
                "provider": provider,
                "site_name": settings.SITE_NAME,
                "answer_url": answer_url,
                "answer_by": today + _days(settings.AVAILABILITY_GRACE_DAYS),
            },
        ),
    )


def lapsing(today: datetime.date):
    """Listings taking new clients whose confirmation is overdue: reminded at least the grace
    period ago and not confirmed since, or with no email and overdue by as much again."""
    overdue = today - _days(settings.AVAILABILITY_CONFIRM_DAYS)
    grace = _days(settings.AVAILABILITY_GRACE_DAYS)
    unanswered = Q(availability_reminded_on__lte=today - grace) & (
        Q(accepting_confirmed_on__isnull=True)
        | Q(accepting_confirmed_on__lt=F("availability_reminded_on"))
    )
    unreachable = Q(email="") & _unconfirmed_since(overdue - grace)
    return (
        Provider.objects.published()
        .filter(accepting_new_clients=True, availability_lapsed=False)
        .filter(_unconfirmed_since(overdue))
        .filter(unanswered | unreachable)
    )


def availability_lapse(*, today: datetime.date | None = None) -> int:
    """Lapse the listings overdue; the number lapsed."""
    today = today or timezone.localdate()
    ids = list(lapsing(today).values_list("pk", flat=True))
    # The condition again in the UPDATE: a listing confirmed meanwhile is left alone.
    lapsed = lapsing(today).filter(pk__in=ids).update(availability_lapsed=True)
    search_index_update(ids)
    return lapsed


@dataclass
class Reminder:
    provider: Provider
    reminded_on: datetime.date

    @property
    def opens_listing(self) -> bool:
        """ "Update my listing" signs its holder in: only until the listing's availability is
        next confirmed, which a yes or no, or a save of the listing's own page, does."""
        confirmed = self.provider.accepting_confirmed_on
        return self.provider.availability_reminded_on == self.reminded_on and (
            confirmed is None or confirmed < self.reminded_on
        )


def reminder_of(token: str) -> Reminder | None:
    """The reminder a link is from, if the link is genuine and recent, and the listing still
    has the address the reminder went to."""
    facts = links.token_read(token, KIND, max_age=link_max_age())
    if facts is None:
        return None
    provider_id, email, reminded_on = facts
    provider = (
        Provider.objects.exclude(status=Provider.Status.ARCHIVED).filter(pk=provider_id).first()
    )
    if provider is None or email_normalised(provider.email) != email:
        return None
    return Reminder(provider, datetime.date.fromisoformat(reminded_on))


def availability_answer(*, provider: Provider, taking: bool) -> bool:
    """Record the provider's answer as confirmed today; False when it said so already today
    (a second click changes nothing)."""
    today = timezone.localdate()
    if (
        provider.accepting_new_clients == taking
        and provider.accepting_confirmed_on == today
        and not provider.availability_lapsed
        and provider.paused_for_replies_at is None
    ):
        return False
    with listing_edit(
        provider_id=provider.pk,
        by=None,
        comment="Availability confirmed by the provider from the reminder email",
    ) as locked:
        locked.accepting_new_clients = taking
        locked.accepting_confirmed_on = today
        locked.availability_lapsed = False
        locked.paused_for_replies_at = None
    return True


# Listings by the state of their availability, for staff: (key, label, condition). A
# listing can be both lapsed and paused.
STATES = [
    ("confirmed", "Taking new clients, confirmed", Q(accepting_now=True)),
    (
        "lapsed",
        "Lapsed: not confirmed in time",
        Q(accepting_new_clients=True, availability_lapsed=True),
    ),
    ("paused", "Paused: enquiries unanswered", Q(paused_for_replies_at__isnull=False)),
    ("not_taking", "Not taking new clients", Q(accepting_new_clients=False)),
]


def availability_counts() -> list[tuple[str, str, int]]:
    """(key, label, how many) of published listings in each state, in one query."""
    counts = Provider.objects.published().aggregate(
        **{key: Count("pk", filter=condition) for key, _label, condition in STATES}
    )
    return [(key, label, counts[key]) for key, label, _condition in STATES]
