"""How a listing's availability, its wait for a first session and its replies to messages are
worded, the same on the result card, the profile, the comparison and the shortlist."""

import datetime
import functools
from dataclasses import dataclass

from django.utils.dateformat import format as date_format
from django.utils.translation import get_language

from services.models import WAIT_WEEKS

TAKING, NOT_TAKING, LAPSED, PAUSED = "taking", "not_taking", "lapsed", "paused"

_WAITS = dict(WAIT_WEEKS)

# Said next to the reply figures, with a link to how they are counted (/about/#replies).
REPLIES_COUNTED = "Counted from the messages sent to them through this site in the last {days} days"


@dataclass(frozen=True)
class Availability:
    state: str  # TAKING, NOT_TAKING, LAPSED or PAUSED
    text: str  # "Taking new clients"
    since: datetime.date | None  # when the provider last confirmed availability and wait
    wait: str = ""  # "First session in about 2 weeks": only while taking

    @property
    def confirmed(self) -> str:
        """ "confirmed 3 December 2026"; "" where the text dates it already, or where the
        listing is paused and a confirmed date beside "not answering" would mislead."""
        if self.since is None or self.state in (LAPSED, PAUSED):
            return ""
        return "confirmed " + _day(self.since, get_language())

    @property
    def tone(self) -> str:
        """The class the facts read at a glance use: "yes", "no" or "muted"."""
        return {TAKING: "yes", NOT_TAKING: "no"}.get(self.state, "muted")


def newcomers(services: list[dict]) -> str:
    """Who a listing takes on, from its card's services: a group takes members, not clients."""
    return "members" if services and all(s.get("is_group") for s in services) else "clients"


def card_facts(provider) -> dict:
    """What the wording needs, as a result card stores it (services/indexing.py)."""
    confirmed = provider.accepting_confirmed_on
    return {
        "accepting": provider.accepting_new_clients,
        "lapsed": provider.availability_lapsed,
        "paused": provider.paused_for_replies_at is not None,
        "confirmed_on": confirmed.isoformat() if confirmed else None,
        "wait_weeks": provider.wait_weeks,
        "reply_rate": provider.reply_rate,
        "reply_hours": provider.reply_hours,
    }


def availability(source, joining: str = "clients") -> Availability:
    """What a listing says about taking people on. `source` is a Provider or its card_facts();
    `joining` is "members" for a provider who offers only groups.

    The state is worked out from the three facts Provider.accepting_now is computed from,
    so that it can say which of them stops a listing from taking people on (and a listing
    not yet saved, as seed_demo plans them, has no accepting_now to read)."""
    facts = source if isinstance(source, dict) else card_facts(source)
    confirmed = facts["confirmed_on"]
    since = datetime.date.fromisoformat(confirmed) if confirmed else None
    if not facts["accepting"]:
        # Their own word, so it stands even if they have not confirmed it lately.
        return Availability(NOT_TAKING, f"Not taking new {joining} at the moment", since)
    if facts["paused"]:
        return Availability(PAUSED, "Not answering messages at the moment", since)
    if facts["lapsed"]:
        if since is None:
            return Availability(LAPSED, "Availability not confirmed", None)
        return Availability(
            LAPSED, f"Availability not confirmed since {_day(since, get_language())}", since
        )
    wait = wait_text(facts["wait_weeks"], groups_only=joining == "members")
    return Availability(TAKING, f"Taking new {joining}", since, wait)


def wait_text(wait_weeks: int | None, groups_only: bool = False) -> str:
    """How soon a new client can start ("" when not said). Only for a listing taking people
    on: the wait is dated by the same confirmation, and lapses with it."""
    if wait_weeks is None:
        return ""
    if wait_weeks == 0:
        return "You can join at the next meeting" if groups_only else "First session within a week"
    about = _WAITS.get(wait_weeks, f"About {wait_weeks} weeks").lower()
    return f"Waiting list: {about}" if groups_only else f"First session in {about}"


def reply_text(rate: int | None, hours: int | None) -> str:
    """ "Answers 80% of messages, usually within a day"; "" below the enquiries it takes to
    be fair (the figures are None then)."""
    if rate is None:
        return ""
    if rate == 0:
        return "Has not answered recent messages"
    said = f"Answers {rate}% of messages"
    if hours is None:
        return said
    if hours < 6:
        return f"{said}, usually within a few hours"
    if hours <= 24:
        return f"{said}, usually within a day"
    days = -(-hours // 24)  # rounded up: "within 2 days" for 30 hours
    return f"{said}, usually within {days} days"


def replies(source) -> str:
    """reply_text() of a Provider or its card_facts()."""
    facts = source if isinstance(source, dict) else card_facts(source)
    return reply_text(facts["reply_rate"], facts["reply_hours"])


@functools.lru_cache(maxsize=1024)
def _day(date: datetime.date, language: str) -> str:
    """ "3 December 2026". A results page dates twenty cards, mostly on the same few days,
    and a translated month costs tens of microseconds: `language` is part of the key."""
    return date_format(date, "j F Y")
