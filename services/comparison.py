"""The comparison table: two to four listings side by side, one row for each criterion.

Each cell is a short list of items, so a row can say whether the listings differ by
comparing what the cells say (the template marks those rows, in words too).
"""

import datetime
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.text import capfirst

from services import geo
from services.models import Location, Qualification
from services.profiles import Profile
from services.search.filters import Criteria
from services.templatetags.directory import fee_range
from services.upkeep import showing

FORMAT_LABELS = {"in person": "In person", "online": "Online (video)", "phone": "By phone"}


@dataclass(frozen=True)
class Item:
    text: str
    note: str = ""  # a detail shown in smaller type: when it was checked, by whom
    marked: bool = False  # what the person searched for
    tone: str = ""  # "yes", "no" or "muted", for the facts read at a glance
    href: str = ""
    checked: bool = False  # the note says our staff checked it


@dataclass
class Row:
    criterion: str
    cells: list[list[Item]]
    empty: str = "Not stated"
    compared: bool = True  # False for the links at the bottom

    @property
    def differs(self) -> bool:
        said = {tuple((item.text, item.note) for item in cell) for cell in self.cells}
        return self.compared and len(said) > 1


@dataclass
class Comparison:
    profiles: list[Profile]
    rows: list[Row] = field(default_factory=list)

    @property
    def differing(self) -> int:
        return sum(row.differs for row in self.rows)


def comparison_build(
    profiles: list[Profile], criteria: Criteria, today: datetime.date
) -> Comparison:
    """The rows for these profiles, with the searched-for concerns marked and, when the
    search has a place, the distance from it."""
    wanted = set(criteria.data.get("concern", []))
    rows = [
        Row("Kind of support", [_support_types(p) for p in profiles]),
        Row("Approaches", [_approaches(p) for p in profiles]),
        Row("Works with", [_concerns(p, wanted) for p in profiles]),
        Row("Qualifications", [_qualifications(p) for p in profiles], empty="None listed"),
        Row("Experience", [_experience(p, today) for p in profiles]),
        Row("Sees", [_clients(p) for p in profiles]),
        Row("Languages", [[Item(lang.name) for lang in p.languages] for p in profiles]),
        Row(
            "Communities and identities",
            [[Item(c.name) for c in p.communities] for p in profiles],
            empty="None listed",
        ),
        Row("How", [_formats(p) for p in profiles]),
    ]
    if criteria.place:
        rows.append(
            Row(
                f"Distance from {criteria.place.label}",
                [_distance(p, criteria.place) for p in profiles],
                empty="No place to visit: online or by phone",
            )
        )
    rows += [
        Row("Where", [_where(p) for p in profiles], empty="Online or by phone only"),
        Row("Fee a session", [_fees(p) for p in profiles]),
        Row("Sliding-scale fees", [_yes_no(_any(p, "sliding_scale")) for p in profiles]),
        Row("Free of charge", [_free(p) for p in profiles]),
        Row("Health insurance", [_insurance(p) for p in profiles]),
        Row(
            "Free first consultation",
            [_yes_no(p.provider.offers_free_consultation) for p in profiles],
        ),
        Row("Taking new clients", [_accepting(p) for p in profiles]),
        Row("First session", [_wait(p) for p in profiles]),
        Row("Replies to messages", [_replies(p) for p in profiles], empty="Too few to say yet"),
    ]
    if any(detail.service.group_weekday is not None for p in profiles for detail in p.services):
        rows.append(
            Row(
                "Next group meeting",
                [_next_meeting(p, today) for p in profiles],
                empty="Runs no groups",
            )
        )
    rows += [
        # A soft hyphen: the longest word would otherwise widen the criteria on a phone.
        Row("Recommend\u00adations", [_recommendations(p) for p in profiles], empty="None yet"),
        Row("Listing checked by our staff", [_checked(p) for p in profiles], empty="Not yet"),
        Row("Contact", [_contact(p) for p in profiles], compared=False),
    ]
    return Comparison(profiles, rows)


def _unique(items: list[Item]) -> list[Item]:
    return list(dict.fromkeys(items))


def _support_types(profile: Profile) -> list[Item]:
    return _unique(
        [Item(detail.service.support_type.name) for detail in profile.services],
    )


def _approaches(profile: Profile) -> list[Item]:
    names = sorted({a.name for detail in profile.services for a in detail.approaches})
    terms = sorted({detail.service.get_term_display() for detail in profile.services})
    return [Item(name) for name in names] + [Item(term, tone="muted") for term in terms]


def _concerns(profile: Profile, wanted: set[str]) -> list[Item]:
    # The ones searched for first, so they line up at the top of each column.
    concerns = sorted(profile.concerns, key=lambda c: (c.slug not in wanted, c.name))
    return [Item(c.name, marked=c.slug in wanted) for c in concerns]


def _qualifications(profile: Profile) -> list[Item]:
    items = []
    for q in profile.qualifications:
        title = q.title + (f", {q.issuer}" if q.issuer else "") + (f" ({q.year})" if q.year else "")
        if q.verified_on:
            note = f"Checked with the issuing body, {date_format(q.verified_on, 'F Y')}"
        elif q.kind == Qualification.Kind.LICENCE:
            note = "Not checked by our staff yet"
        else:
            note = q.get_kind_display()
        items.append(Item(title, note=note, checked=q.verified_on is not None))
    return items


def _experience(profile: Profile, today: datetime.date) -> list[Item]:
    since = profile.provider.practising_since
    if since is None:
        return []
    years = max(0, today.year - since)
    return [Item(f"{years} year{'' if years == 1 else 's'}", note=f"Practising since {since}")]


def _clients(profile: Profile) -> list[Item]:
    clients = _unique(
        [Item(c.capitalize()) for detail in profile.services for c in detail.service.clients]
    )
    ages = sorted({(a.min_age, a.name) for detail in profile.services for a in detail.age_groups})
    return clients + [Item(name) for _age, name in ages]


def _formats(profile: Profile) -> list[Item]:
    offered = {name for detail in profile.services for name in detail.service.formats}
    return [Item(label) for name, label in FORMAT_LABELS.items() if name in offered]


def _distance(profile: Profile, place: geo.Place) -> list[Item]:
    located = [loc for loc in profile.locations if loc.distance_point is not None]
    if not located:
        return []
    km = geo.distances_km(
        place.latitude,
        place.longitude,
        [loc.distance_point[0] for loc in located],
        [loc.distance_point[1] for loc in located],
    )
    nearest = min(range(len(located)), key=lambda n: km[n])
    return [Item(f"{km[nearest]:.1f} km", note=located[nearest].town)]


def _where(profile: Profile) -> list[Item]:
    items = []
    for location in profile.locations:
        access = location.get_wheelchair_access_display().lower()
        if location.wheelchair_access_confirmed_by:
            who = location.get_wheelchair_access_confirmed_by_display().lower()
            access += f" (confirmed by {who})"
        if location.wheelchair_access == Location.WheelchairAccess.UNKNOWN:
            access = "not known"
        items.append(Item(location.public.address, note=f"Wheelchair access: {access}"))
    return items


def _fees(profile: Profile) -> list[Item]:
    items = []
    for detail in profile.services:
        service = detail.service
        items.append(
            Item(fee_range(service), note=str(service) if len(profile.services) > 1 else "")
        )
    return _unique(items)


def _any(profile: Profile, name: str) -> bool:
    return any(getattr(detail.service, name) for detail in profile.services)


def _yes_no(value: bool) -> list[Item]:
    return [Item("Yes", tone="yes")] if value else [Item("No")]


def _free(profile: Profile) -> list[Item]:
    services = [detail.service for detail in profile.services]
    free = [s for s in services if s.is_free]
    if not free:
        return [Item("No")]
    if len(free) == len(services):
        return [Item("Yes", tone="yes")]
    return [Item("Some of it", tone="yes", note=", ".join(str(s) for s in free))]


def _insurance(profile: Profile) -> list[Item]:
    insured = [d.service for d in profile.services if d.service.accepts_insurance]
    if not insured:
        return [Item("Not accepted")]
    insurers = ", ".join(dict.fromkeys(s.insurers for s in insured if s.insurers))
    return [Item("Accepted", tone="yes", note=insurers)]


def _accepting(profile: Profile) -> list[Item]:
    said = profile.availability
    # A lapsed or paused availability says itself why it cannot be taken as confirmed.
    unconfirmed = "" if said.state in (showing.LAPSED, showing.PAUSED) else "Not confirmed"
    return [Item(said.text, tone=said.tone, note=capfirst(said.confirmed) or unconfirmed)]


def _wait(profile: Profile) -> list[Item]:
    wait = profile.availability.wait
    return [Item(wait)] if wait else []


def _replies(profile: Profile) -> list[Item]:
    replies = profile.replies
    return [Item(replies, note=profile.replies_counted)] if replies else []


def _next_meeting(profile: Profile, today: datetime.date) -> list[Item]:
    items = []
    for detail in profile.services:
        service = detail.service
        day = service.next_meeting(today)
        if day is None:
            continue
        start = service.group_start_time
        text = date_format(day, "l j F") + (f" at {start:%H:%M}" if start else "")
        items.append(
            (day, Item(text, note=f"{service}, {service.get_group_frequency_display().lower()}"))
        )
    return [item for _day, item in sorted(items, key=lambda pair: pair[0])]


def _recommendations(profile: Profile) -> list[Item]:
    count = profile.provider.recommendations_approved
    if not count:
        return []
    url = profile.provider.get_absolute_url() + "#recommendations"
    return [Item(f"{count} recommendation{'' if count == 1 else 's'}", href=url)]


def _checked(profile: Profile) -> list[Item]:
    checked = profile.provider.last_verified
    if checked is None:
        return []
    note = "Over a year ago: some details may have changed" if profile.stale else ""
    return [Item(date_format(checked, "j F Y"), note=note)]


def _contact(profile: Profile) -> list[Item]:
    provider = profile.provider
    items = [Item("Full profile", href=provider.get_absolute_url())]
    if provider.email:
        contact = reverse("services:provider_contact", kwargs={"slug": provider.slug})
        items.append(Item("Send a message", href=contact))
    elif provider.phone:
        items.append(Item(f"Phone {provider.phone}", href="tel:" + provider.phone.replace(" ", "")))
    elif provider.website:
        items.append(Item("Their website", href=provider.website))
    return items
