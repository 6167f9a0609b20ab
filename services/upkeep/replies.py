"""Whether enquiries are answered.

Each enquiry email to a provider carries one-click links: "I've replied", "I can't help with
this" and "this is spam". Not answered within REPLY_WORKING_DAYS, the enquiry is chased once:
the person who wrote, if they left an email and asked for it, is sent up to three other
listings that meet the search they came from, and the provider one reminder. A provider who
says they cannot help sets that follow-up off at once.

UNANSWERED_IN_A_ROW_PAUSE unanswered enquiries in a row pause the listing from "taking new
clients" (and put it in front of staff); any answer, or a confirmation of availability,
releases it. Each listing's reply rate and typical reply time are kept on it for its card,
profile and comparison, from REPLY_FIGURES_FROM enquiries in REPLY_FIGURES_DAYS: an enquiry
counts once it is answered or overdue, and spam never counts.
"""

import datetime
import statistics
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from services.indexing import search_index_update
from services.models import Enquiry, OutgoingEmail, Provider, Service
from services.outbox import email_queue
from services.search.filters import criteria_of, search_form
from services.shortlist import kept_search
from services.upkeep import links

KIND = "enquiry"
# The link's last part: what the provider is telling us.
ANSWERS = {
    "replied": Enquiry.Answer.REPLIED,
    "cannot-help": Enquiry.Answer.CANNOT_HELP,
    "spam": Enquiry.Answer.SPAM,
}
ANSWERED = [Enquiry.Answer.REPLIED, Enquiry.Answer.CANNOT_HELP]
# What a follow-up offers instead, at most.
ALTERNATIVES = 3
# Of a search, what an enquiry keeps for its follow-up: the place and the concerns, never the
# words typed (those are not kept with who searched).
KEPT_CRITERIA = ("near", "lat", "lng", "radius", "concern")


def reply_due(sent: datetime.datetime) -> datetime.datetime:
    """REPLY_WORKING_DAYS after `sent`, counting Monday to Friday only (local time)."""
    due = timezone.localtime(sent)
    left = settings.REPLY_WORKING_DAYS
    while left:
        due += datetime.timedelta(days=1)
        if due.weekday() < 5:
            left -= 1
    return due


def came_from(search: QueryDict) -> str:
    """What an enquiry keeps of the search it was sent from, as a query string."""
    return kept_search(search, KEPT_CRITERIA).removeprefix("?")[:1000]


# The links in the enquiry email -------------------------------------------------------------


def answer_links(enquiry: Enquiry) -> dict[str, str]:
    token = links.token_make(KIND, enquiry.pk, enquiry.provider_id)
    return {
        answer.replace("-", "_"): links.link(
            settings.SITE_URL, "services:enquiry_answer", token, answer
        )
        for answer in ANSWERS
    }


def enquiry_of(token: str) -> Enquiry | None:
    """The enquiry a link is for, while its content is kept; None for a forged or old link,
    or one whose listing is not the enquiry's."""
    facts = links.token_read(
        token, KIND, max_age=datetime.timedelta(days=settings.KEEP_ENQUIRIES_DAYS)
    )
    if facts is None:
        return None
    enquiry_id, provider_id = facts
    return (
        Enquiry.objects.select_related("provider")
        .filter(pk=enquiry_id, provider_id=provider_id, forgotten_at__isnull=True)
        .first()
    )


def enquiry_answer(*, enquiry: Enquiry, answer: str, reason: str = "") -> bool:
    """Record what the provider told us; False if they had told us already (the first answer
    stands, so a second click changes nothing)."""
    now = timezone.now()
    with transaction.atomic():
        recorded = Enquiry.objects.filter(pk=enquiry.pk, answer="").update(
            answer=answer,
            answered_at=now,
            cannot_help_reason=reason if answer == Enquiry.Answer.CANNOT_HELP else "",
        )
        if not recorded:
            return False
        enquiry.refresh_from_db()
        # They read their messages: any answer releases a pause.
        released = Provider.objects.filter(
            pk=enquiry.provider_id, paused_for_replies_at__isnull=False
        ).update(paused_for_replies_at=None)
        if answer == Enquiry.Answer.CANNOT_HELP:
            _chase(enquiry, now, remind_provider=False)
        changed = reply_figures_update([enquiry.provider_id], now=now)
        if released and not changed:
            search_index_update([enquiry.provider_id])
    return True


# Chasing ----------------------------------------------------------------------------------


def chase_due(now: datetime.datetime):
    return Enquiry.objects.filter(
        answer="", chased_at__isnull=True, forgotten_at__isnull=True, reply_due_at__lte=now
    )


def enquiries_chase(*, now: datetime.datetime | None = None, batch_size: int = 200) -> int:
    """Chase the enquiries overdue; the number chased. Each is marked in the transaction that
    queues its emails, so none is chased twice."""
    now = now or timezone.now()
    chased = 0
    providers = set()
    while True:
        with transaction.atomic():
            batch = list(
                chase_due(now)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("provider")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                break
            for enquiry in batch:
                _chase(enquiry, now, remind_provider=True)
                providers.add(enquiry.provider_id)
            chased += len(batch)
    pauses_apply(providers, now=now)
    return chased


def _chase(enquiry: Enquiry, now: datetime.datetime, *, remind_provider: bool) -> None:
    """Queue the follow-up (only to someone who asked for it) and the provider's reminder."""
    if enquiry.chased_at is not None:
        return
    if enquiry.wants_follow_up and enquiry.email and enquiry.consents_to_processing:
        _follow_up_queue(enquiry)
    if remind_provider and enquiry.provider.email:
        email_queue(
            purpose=OutgoingEmail.Purpose.REPLY_REMINDER,
            to=enquiry.provider.email,
            subject=f"Have you answered {enquiry.name}? A message through {settings.SITE_NAME}",
            body=render_to_string(
                "services/email/reply_reminder.txt",
                {
                    "enquiry": enquiry,
                    "provider": enquiry.provider,
                    "site_name": settings.SITE_NAME,
                    "answer_url": answer_links(enquiry),
                    "pause_after": settings.UNANSWERED_IN_A_ROW_PAUSE,
                },
            ),
        )
    enquiry.chased_at = now
    Enquiry.objects.filter(pk=enquiry.pk).update(chased_at=now)


def _follow_up_queue(enquiry: Enquiry) -> None:
    search = _search_of(enquiry)
    email_queue(
        purpose=OutgoingEmail.Purpose.FOLLOW_UP,
        to=enquiry.email,
        subject=f"Other places to try, from {settings.SITE_NAME}",
        body=render_to_string(
            "services/email/follow_up.txt",
            {
                "enquiry": enquiry,
                "provider": enquiry.provider,
                "site_name": settings.SITE_NAME,
                "site_url": settings.SITE_URL,
                "alternatives": alternatives(enquiry, search),
                # The profiles keep the search, for distances and a follow-up of their own.
                "kept_search": kept_search(search),
                "search_url": settings.SITE_URL
                + reverse("services:find")
                + "?"
                + search.urlencode(),
                "cannot_help": enquiry.answer == Enquiry.Answer.CANNOT_HELP,
                "crisis_line": settings.CRISIS_LINE,
            },
        ),
    )


def _search_of(enquiry: Enquiry) -> QueryDict:
    """The search the enquiry was sent from, for the kinds of support the listing offers (an
    adult who wrote to a counsellor is not sent a children's play therapist), among listings
    taking new clients."""
    search = QueryDict(enquiry.came_from, mutable=True)
    kinds = (
        Service.objects.filter(provider_id=enquiry.provider_id)
        .values_list("support_type__slug", flat=True)
        .distinct()
    )
    search.setlist("type", sorted(kind for kind in kinds if kind))
    search["accepting"] = "1"
    return search


def alternatives(enquiry: Enquiry, search: QueryDict) -> list[Provider]:
    """Up to ALTERNATIVES other listings that meet the search: the nearest first when it had
    a place, else the most recently checked."""
    criteria = criteria_of(search_form(search))
    found = criteria.providers(
        Provider.objects.published().exclude(pk=enquiry.provider_id), search=False
    )
    order = (
        [F("distance_km").asc(nulls_last=True), "pk"]
        if criteria.place
        else [F("last_verified").desc(nulls_last=True), "pk"]
    )
    return list(found.order_by(*order)[:ALTERNATIVES])


# Pauses and figures -----------------------------------------------------------------------


def _counted(now: datetime.datetime):
    """Enquiries that count for a listing's replies: not spam, and answered or overdue."""
    return Enquiry.objects.exclude(answer=Enquiry.Answer.SPAM).filter(
        Q(answer__in=ANSWERED) | Q(reply_due_at__lte=now)
    )


def pauses_apply(provider_ids: Iterable[int], *, now: datetime.datetime) -> list[int]:
    """Pause the listings whose latest counted enquiries, UNANSWERED_IN_A_ROW_PAUSE of them,
    all went unanswered; the ids paused."""
    in_a_row = settings.UNANSWERED_IN_A_ROW_PAUSE
    paused = []
    for provider_id in Provider.objects.filter(
        pk__in=list(provider_ids), paused_for_replies_at__isnull=True
    ).values_list("pk", flat=True):
        latest = list(
            _counted(now)
            .filter(provider_id=provider_id)
            .order_by("-created_at")
            .values_list("answer", flat=True)[:in_a_row]
        )
        if len(latest) == in_a_row and not any(latest):
            paused.append(provider_id)
    if paused:
        Provider.objects.filter(pk__in=paused, paused_for_replies_at__isnull=True).update(
            paused_for_replies_at=now
        )
        search_index_update(paused)
    return paused


def reply_figures_update(
    provider_ids: Iterable[int], *, now: datetime.datetime | None = None
) -> list[int]:
    """Work out these listings' reply figures again; the ids whose figures changed (their
    cards are rebuilt)."""
    now = now or timezone.now()
    ids = list(provider_ids)
    rows = defaultdict(list)
    for provider_id, answer, sent, answered in (
        _counted(now)
        .filter(
            provider_id__in=ids,
            created_at__gte=now - datetime.timedelta(days=settings.REPLY_FIGURES_DAYS),
        )
        .values_list("provider_id", "answer", "created_at", "answered_at")
    ):
        rows[provider_id].append((answer, sent, answered))
    changed = []
    for provider in Provider.objects.filter(pk__in=ids).only(
        "pk", "replies_counted", "reply_rate", "reply_hours"
    ):
        figures = _figures(rows[provider.pk])
        if figures != (provider.replies_counted, provider.reply_rate, provider.reply_hours):
            provider.replies_counted, provider.reply_rate, provider.reply_hours = figures
            changed.append(provider)
    Provider.objects.bulk_update(changed, ["replies_counted", "reply_rate", "reply_hours"])
    search_index_update([p.pk for p in changed])
    return [p.pk for p in changed]


def _figures(rows) -> tuple[int, int | None, int | None]:
    """(how many counted, the share answered in %, the median hours to an answer); the last
    two only from REPLY_FIGURES_FROM enquiries, where they are fair."""
    counted = len(rows)
    if counted < settings.REPLY_FIGURES_FROM:
        return counted, None, None
    hours = [(answered - sent).total_seconds() / 3600 for answer, sent, answered in rows if answer]
    rate = round(100 * len(hours) / counted)
    return counted, rate, round(statistics.median(hours)) if hours else None


def reply_figures_refresh(*, now: datetime.datetime | None = None) -> int:
    """Daily: the window moves, so enquiries age out of it. The listings with an enquiry in
    it or figures to clear; the number whose figures changed."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=settings.REPLY_FIGURES_DAYS + 1)
    with_enquiries = Enquiry.objects.filter(created_at__gte=since).values_list(
        "provider_id", flat=True
    )
    with_figures = Provider.objects.filter(replies_counted__gt=0).values_list("pk", flat=True)
    ids = set(with_enquiries) | set(with_figures)
    return len(reply_figures_update(ids, now=now))
