"""What a results page says about a search: the summary line, the chips, the ways to widen it."""

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlencode

from django.http import QueryDict

from services.models import Provider, Service
from services.search import everyday
from services.search.criteria import CRITERIA
from services.search.filters import (
    FLAG_FILTERS,
    LIST_FILTERS,
    Criteria,
    FindForm,
    options_of,
    support_type_nouns,
)
from services.search.text import parse
from services.templatetags.directory import card_fees, money

FLAG_LABELS = {name: CRITERIA[name].chip for name in FLAG_FILTERS}


@dataclass
class Chip:
    """One active choice, with the query string that removes it."""

    label: str
    remove_query: str
    filter: bool = True  # False for the words and the place, which are not filters


@dataclass
class Relaxation:
    label: str
    count: int
    query: str


@dataclass
class Option:
    value: str
    label: str
    count: int | None
    checked: bool


@dataclass
class FilterGroup:
    name: str
    legend: str
    options: list[Option] = field(default_factory=list)

    @cached_property
    def chosen(self) -> int:
        return sum(option.checked for option in self.options)

    @cached_property
    def open(self) -> bool:
        """Short lists, and lists with a choice made, start unfolded."""
        return len(self.options) <= 5 or bool(self.chosen)


def option_labels(name: str) -> dict[str, str]:
    return dict(options_of(name))


def chip_labels(name: str) -> dict[str, str]:
    """What the chip of each option says: its label, or the chip its declaration gives."""
    chips = {option.value: option.chip for option in getattr(CRITERIA[name], "fixed", ())}
    return {value: chips.get(value) or label for value, label in options_of(name)}


def chips(criteria: Criteria, query: QueryDict, place_label: str) -> list[Chip]:
    """A removable chip for every value of every active filter."""
    found = []
    if criteria.data.get("q"):
        found.append(Chip(f"“{criteria.data['q']}”", without(query, "q"), filter=False))
    if criteria.place:
        found.append(
            Chip(
                f"within {criteria.radius_km} km of {place_label}",
                without(query, "near", "lat", "lng", "radius"),
                filter=False,
            )
        )
    for name in LIST_FILTERS:
        labels = chip_labels(name)
        for value in criteria.data.get(name, []):
            found.append(Chip(labels.get(value, value), without(query, name, value=value)))
    if "max_fee" in criteria.data:
        found.append(
            # "£12.50", not "£12": the limit is what was asked for, pence and all.
            Chip(f"up to {money(criteria.data['max_fee'])} a session", without(query, "max_fee"))
        )
    if "min_years" in criteria.data:
        found.append(
            Chip(f"{criteria.data['min_years']}+ years' experience", without(query, "min_years"))
        )
    for name in FLAG_FILTERS:
        if name in criteria.data:
            found.append(Chip(FLAG_LABELS[name], without(query, name)))
    return found


def without(query: QueryDict, *names: str, value: str | None = None) -> str:
    """The query string without these parameters (or without one value of a list), from page 1."""
    return urlencode(
        [
            (name, kept)
            for name, values in query.lists()
            if name != "page" and (name not in names or value is not None)
            for kept in values
            if name not in names or kept != value
        ]
    )


def summary(count: int, criteria: Criteria, place_label: str) -> str:
    """“14 counsellors for grief within 10 km of Leeds”."""
    types = criteria.data.get("type", [])
    if len(types) == 1:
        type_name = _type_noun(types[0])
        noun = type_name if count != 1 else _singular(type_name)
    else:
        noun = "listing" if count == 1 else "listings"
    words = [f"{count:,}", noun]
    concerns = criteria.data.get("concern", [])
    if concerns:
        labels = option_labels("concern")
        words.append("for " + _or_list([labels.get(c, c).lower() for c in concerns]))
    if criteria.data.get("q"):
        words.append(f"matching “{criteria.data['q']}”")
    if criteria.place:
        words.append(f"within {criteria.radius_km} km of {place_label}")
        if "online" in criteria.data.get("format", []):
            words.append("or online")
    return " ".join(words)


def _type_noun(slug: str) -> str:
    return support_type_nouns().get(slug, "listings")


def _singular(noun: str) -> str:
    return noun[:-1] if noun.endswith("s") else noun


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def relaxations(
    form: FindForm,
    criteria: Criteria,
    count: Callable[[Criteria], int],
    query: QueryDict,
    place_label: str,
) -> list[Relaxation]:
    """For an empty result: each single change that would give results, and how many
    (`count` says how many a changed search gives)."""
    found = []
    if criteria.place and criteria.radius_km < 100:
        wider = min(criteria.radius_km * 3, 100)
        widened = Criteria({**criteria.data, "radius": wider}, place=criteria.place)
        found.append(
            Relaxation(
                f"Search within {wider} km",
                count(widened),
                _with(query, radius=str(wider)),
            )
        )
    if criteria.place and "online" not in criteria.data.get("format", []):
        with_online = Criteria(
            {**criteria.data, "format": [*criteria.data.get("format", []), "online"]},
            place=criteria.place,
        )
        found.append(
            Relaxation(
                "Include online support",
                count(with_online),
                _with(query, format=[*query.getlist("format"), "online"]),
            )
        )
    removable = [("q", "the search words"), ("near", f"the place ({place_label})")]
    removable += [(name, _filter_label(form, name)) for name in criteria.active()]
    for name, label in removable:
        if name == "q" and not criteria.data.get("q") or name == "near" and not criteria.place:
            continue
        names = ("near", "lat", "lng", "radius") if name == "near" else (name,)
        relaxed = criteria.without(*names)
        found.append(Relaxation(f"Remove {label}", count(relaxed), without(query, *names)))
    helpful = [r for r in found if r.count]
    if not helpful and criteria.place and criteria.active():
        # No single change is enough: offer the two broad ones.
        nearby = criteria.without(*criteria.active(), "q")
        found.append(
            Relaxation(
                f"Everything near {place_label}",
                count(nearby),
                _keep(query, "near", "lat", "lng", "radius"),
            )
        )
        anywhere = Criteria({**criteria.without("near").data, "format": ["online"]})
        found.append(
            Relaxation(
                "The same filters, online, anywhere",
                count(anywhere),
                _with(without(query, "near", "lat", "lng", "radius"), format=["online"]),
            )
        )
        helpful = [r for r in found if r.count]
    return helpful


ORDER_LINES = {
    "relevance": "In order of how well they match your words.",
    "distance": "Nearest first; online support away from the place comes last.",
    "fee": "Lowest fee first.",
    "experience": "Longest in practice first.",
    "recommended": "Most recommended first.",
    "name": "In order of name, A to Z.",
}


def order_line(criteria: Criteria) -> str:
    """The order of the results, in one line."""
    sort = criteria.sort()
    if sort == "relevance" and criteria.place:
        return (
            "In order of how well they match your words, and among equally good matches,"
            " the nearest first."
        )
    return ORDER_LINES[sort]


def closest_concerns(
    criteria: Criteria, count: Callable[[Criteria], int], query: QueryDict
) -> list[Relaxation]:
    """For words that found nothing: the concerns whose everyday words come closest,
    each in place of the words, with how many it finds."""
    words = criteria.data.get("q")
    if not words:
        return []
    found = []
    for slug, name in everyday.closest_concerns(words):
        chosen = Criteria({**criteria.without("q").data, "concern": [slug]}, place=criteria.place)
        found.append(Relaxation(name, count(chosen), _with(without(query, "q"), concern=[slug])))
    return [suggestion for suggestion in found if suggestion.count]


def _keep(query: QueryDict, *names: str) -> str:
    kept = QueryDict(mutable=True)
    for name in names:
        if name in query:
            kept.setlist(name, query.getlist(name))
    return kept.urlencode()


def _filter_label(form: FindForm, name: str) -> str:
    label = str(form.fields[name].label)
    return f"“{label.lower()}”"


def _with(query: QueryDict | str, **values) -> str:
    changed = QueryDict(query, mutable=True) if isinstance(query, str) else query.copy()
    changed.pop("page", None)
    for name, value in values.items():
        if isinstance(value, list):
            changed.setlist(name, value)
        else:
            changed[name] = value
    return changed.urlencode()


def annotate_cards(
    providers: list[Provider],
    criteria: Criteria,
    today: datetime.date,
    meeting: dict[int, set[str]] | None = None,
) -> None:
    """Add what a card shows beyond the stored card, worked out here once rather than
    piece by piece in the template (a results page shows twenty): the service that met
    the search, the concerns matched, where and how, the fees, the next group meeting.

    `meeting` (services_meeting()) holds the uuids of each provider's services that meet
    the search's service criteria; None when it has none."""
    wanted = set(criteria.data.get("concern", []))
    q = criteria.data.get("q", "")
    words = [term.text.lower() for term in parse(q) if not term.excluded]
    # What everyday phrases in the words mean counts as asking for those concerns.
    if words:
        wanted |= {slug for m in everyday.vocabulary().meant(q) for slug, _ in m.concerns}
    asked = meeting is not None or bool(words)

    def matches(slug: str, name: str) -> bool:
        return slug in wanted or bool(words) and any(word in name.lower() for word in words)

    for provider in providers:
        card = provider.card or {}
        lead = _lead_service(card, meeting, provider.pk, matches) if asked else None
        provider.lead_service, provider.other_services = lead, []
        if lead is not None:
            provider.other_services = _unique_names([s for s in card["services"] if s is not lead])
        concerns = lead["concerns"] if lead is not None else card.get("concerns", [])
        # About ten concerns a card: each is looked at once, and its name lowered only
        # if there are words to look for in it.
        matched_concerns, other_concerns = [], []
        for slug, name in concerns:
            (matched_concerns if matches(slug, name) else other_concerns).append(name)
        provider.matched_concerns, provider.other_concerns = matched_concerns, other_concerns
        provider.card_where = _where(card, getattr(provider, "distance_km", None), lead)
        provider.card_approaches = ", ".join(card.get("approaches", [])[:3])
        if lead is not None:
            provider.card_types = lead["type"][1] + (f": {lead['name']}" if lead["name"] else "")
            provider.card_fees = _fees_line(
                lead["fee_min"],
                lead["fee_max"],
                lead["currency"],
                lead["free"],
                lead["free"],
                lead["sliding_scale"],
                lead["insurance"],
            )
            groups = [lead["group"]] if lead["group"] else []
        else:
            provider.card_types = ", ".join(name for _slug, name in card.get("types", []))
            provider.card_fees = _fees_line(*map(card.get, FEE_KEYS))
            groups = card.get("groups", [])
        meetings = [
            {
                "name": group["name"],
                "start": group["start"],
                "date": _next_meeting(
                    group["weekday"], group["frequency"], group["starts_on"], today
                ),
            }
            for group in groups
        ]
        provider.next_meetings = sorted(meetings, key=lambda m: m["date"])
        provider.verified_licence = any(
            c["kind"] == "licence" and c["verified"] for c in card.get("credentials", [])
        )


def services_meeting(providers: list[Provider], criteria: Criteria) -> dict[int, set[str]] | None:
    """{provider id: uuids of their services that meet the search's service criteria}, in
    one query for the page; None when the search has no service criteria."""
    condition = criteria.service_condition()
    if not condition or not providers:
        return None
    rows = Service.objects.filter(condition, provider_id__in=[p.pk for p in providers])
    meeting = {}
    for provider_id, uuid in rows.values_list("provider_id", "uuid"):
        meeting.setdefault(provider_id, set()).add(str(uuid))
    return meeting


def _lead_service(card: dict, meeting, provider_id: int, matches) -> dict | None:
    """The service a card leads with: of those that meet the service criteria, the one
    whose concerns and kind most match the words and concerns asked for (the first in
    the card's order among equals). None for a card stored before cards held services."""
    services = card.get("services")
    if not services:
        return None
    if meeting is not None:
        services = [s for s in services if s["uuid"] in meeting.get(provider_id, ())] or services

    def score(service) -> int:
        return sum(matches(slug, name) for slug, name in [service["type"], *service["concerns"]])

    return max(services, key=score)  # max keeps the first of equals


def _unique_names(services: list[dict]) -> list[str]:
    """What else a provider offers, each kind (or named service) once."""
    names = []
    for service in services:
        name = service["name"] or service["type"][1]
        if name not in names:
            names.append(name)
    return names


# Cards share their fees and schedules: each line is worked out once.

# What of a stored card its fees line says, in the order _fees_line() takes them.
FEE_KEYS = ("fee_min", "fee_max", "currency", "only_free", "free", "sliding_scale", "insurance")


@functools.lru_cache(maxsize=4096)
def _fees_line(fee_min, fee_max, currency, only_free, free, sliding_scale, insurance) -> str:
    card = {
        "fee_min": fee_min,
        "fee_max": fee_max,
        "currency": currency or "GBP",
        "only_free": only_free,
        "free": free,
        "sliding_scale": sliding_scale,
        "insurance": insurance,
    }
    return card_fees(card)


@functools.lru_cache(maxsize=4096)
def _next_meeting(weekday: int, frequency: str, starts_on: str | None, today: datetime.date):
    schedule = Service(
        group_weekday=weekday,
        group_frequency=frequency,
        group_starts_on=datetime.date.fromisoformat(starts_on) if starts_on else None,
    )
    return schedule.next_meeting(today)


def _where(card: dict, distance_km: float | None, lead: dict | None = None) -> str:
    """“2.5 km away (Leeds) · also online · by phone”: of the service the card leads with
    (where it is offered in person, and how else), or of the provider's services."""
    towns = card.get("towns", [])
    formats = card.get("formats", []) if lead is None else lead["formats"]
    if lead is not None and "in_person" not in formats:
        distance_km, towns = None, []
    if distance_km is not None:
        where = f"{distance_km:.1f} km away" + (f" ({towns[0]})" if towns else "")
    else:
        where = ", ".join(towns)
    if "online" in formats:
        where += " · also online" if where else "online"
    if "phone" in formats:
        where += " · by phone"
    return where


def _option_label(form: FindForm, name: str, value: str, label: str) -> str:
    # With a place, online support counts from anywhere, which is why its count is larger:
    # the label says so.
    if name == "format" and value == "online" and form.data.get("near"):
        return "Online, from anywhere"
    return label


def filter_groups(form: FindForm, counts: dict[str, dict[str, int]]) -> list[FilterGroup]:
    """The list filters with each option's count, in the order the form shows them."""
    chosen = form.data
    groups = []
    for name in LIST_FILTERS:
        field = form.fields[name]
        selected = set(chosen.getlist(name)) if hasattr(chosen, "getlist") else set()
        counted = counts.get(name, {})
        options = [
            Option(
                value=value,
                label=_option_label(form, name, value, label),
                count=counted.get(value, 0),
                checked=value in selected,
            )
            for value, label in options_of(name)
        ]
        groups.append(FilterGroup(name=name, legend=str(field.label), options=options))
    return groups


def flag_options(form: FindForm, counts: dict[str, dict[str, int]]) -> list[Option]:
    chosen = form.data
    return [
        Option(
            value=name,
            label=str(form.fields[name].label),
            count=counts.get(name, {}).get("1", 0),
            checked=bool(chosen.get(name)),
        )
        for name in FLAG_FILTERS
    ]
