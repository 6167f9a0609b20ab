"""The HTML of result cards and filter options, built in Python rather than in a template.

A results page repeats them about a hundred times (20 cards, some 80 options). The template
engine spends about ten microseconds on each variable it prints (lookup, localisation,
escaping), which came to most of the page's time; here every text is escaped with the
standard library's html.escape (what django.utils.html.escape calls, without its lazy-string
wrapper), and the pieces are joined. This is the only copy of their markup: the templates call the tags in
services/templatetags/directory.py.
"""

import functools
import html

from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from services.fixed_urls import around_slug
from services.photos import CARD_HEIGHT, CARD_WIDTH
from services.upkeep import showing

# The same few hundred texts (option labels, concerns, towns) come on every page:
# each is escaped once.
escape = functools.lru_cache(maxsize=1 << 14)(html.escape)

# How many concerns a card names beyond the ones the person searched for.
OTHER_CONCERNS_SHOWN = 4


def result_cards(providers, saved: set[int] | None = None, search: str = "") -> SafeString:
    """The <li> of each provider (a Provider, or a matching.Listed row), annotated by
    services.search.results.annotate_cards().

    With `saved` (the ids on the person's shortlist), each card has a Save button that
    submits the page's one shortlist form (#shortlist-form, outside the search form).
    `search` ("?near=Leeds", shortlist.kept_search()) goes with each link to a profile,
    which keeps it for its own links to the shortlist and the comparison.
    """
    # Every profile address has the same shape.
    before, after = around_slug("services:provider_detail")
    this_year = timezone.localdate().year
    # The names of days and months are translated: the language is looked up once.
    language = get_language()
    return mark_safe(
        "".join(
            _card(p, before + p.slug + after + search, this_year, language, saved)
            for p in providers
        )
    )


def save_button(slug: str, name: str, saved: bool) -> str:
    """A toggle that saves a listing to the shortlist, or takes it off again."""
    if saved:
        action, pressed, label = "remove", "true", "Saved"
    else:
        action, pressed, label = "add", "false", "Save"
    return (
        f'<button type="submit" form="shortlist-form" class="save" name="{action}"'
        f' value="{html.escape(slug)}" aria-pressed="{pressed}">{label}'
        f'<span class="visually-hidden"> {escape(name)}</span></button>'
    )


def _card(provider, url: str, this_year: int, language: str, saved: set[int] | None) -> str:
    pk = provider.pk
    lead = getattr(provider, "lead_service", None)
    if lead is not None:
        # The profile shows the service the card led with first (services/profiles.py).
        url += f"{'&' if '?' in url else '?'}service={lead['uuid']}"
    card = provider.card or {}
    parts = [f'<li class="card">\n  <article aria-labelledby="provider-{pk}">\n']
    if photo := card.get("photo"):
        parts.append(_photo(photo, card.get("photo_alt", "")))
    parts.append(
        f'    <h3 id="provider-{pk}"><a href="{escape(url)}">{escape(provider.name)}</a></h3>\n'
    )
    credentials = card.get("credentials")
    if credentials:
        titles = " · ".join(
            escape(c["title"])
            + (' <span class="verified">(checked by us)</span>' if c["verified"] else "")
            for c in credentials
        )
        parts.append(f'    <p class="credentials">{titles}</p>\n')
    if introduction := card.get("introduction"):
        parts.append(f'    <p class="introduction">{html.escape(introduction)}</p>\n')
    approaches = (
        f' <span class="muted">· {escape(provider.card_approaches)}</span>'
        if provider.card_approaches
        else ""
    )
    parts.append(f'    <p class="types">{escape(provider.card_types)}{approaches}</p>\n')
    matched, others = provider.matched_concerns, provider.other_concerns
    if matched or others:
        names = [f'<strong class="matched">{escape(name)}</strong>' for name in matched]
        names += [escape(name) for name in others[:OTHER_CONCERNS_SHOWN]]
        more = " and more" if len(others) > OTHER_CONCERNS_SHOWN else ""
        parts.append(f'    <p class="concerns">Works with: {", ".join(names)}{more}</p>\n')
    joining = showing.newcomers([lead] if lead is not None else card.get("services", []))
    facts = card.get("availability")
    if facts is not None:
        accepting = _availability(facts, joining)
    # A card stored before cards held these facts (till its listing is indexed again).
    elif provider.accepting_new_clients:
        accepting = f'<li class="yes">Taking new {joining}</li>'
    else:
        accepting = f'<li class="no">Not taking new {joining}</li>'
    # As Provider.years_of_experience says it.
    since = provider.practising_since
    years = None if since is None else max(0, this_year - since)
    experience = (
        "" if years is None else f"<li>{years} year{'' if years == 1 else 's'} in practice</li>"
    )
    recommended = provider.recommendations_approved
    recommendations = (
        f"<li>{recommended} recommendation{'' if recommended == 1 else 's'}</li>"
        if recommended
        else ""
    )
    parts.append(
        f'    <ul class="facts-inline"><li>{escape(provider.card_where)}</li>'
        f"<li>{escape(provider.card_fees)}</li>{accepting}{experience}{recommendations}</ul>\n"
    )
    if provider.next_meetings:
        meeting = provider.next_meetings[0]
        start = f" at {escape(meeting['start'])}" if meeting["start"] else ""
        parts.append(
            f'    <p class="next-meeting">Next group: {escape(meeting["name"])}, '
            f"{_meeting_day(meeting['date'], language)}{start}</p>\n"
        )
    if provider.other_services:
        parts.append(
            f'    <p class="also-offers">Also offers: {escape(", ".join(provider.other_services))}</p>\n'
        )
    if saved is not None:
        button = save_button(provider.slug, provider.name, pk in saved)
        parts.append(f'    <p class="card-actions">{button}</p>\n')
    parts.append("  </article>\n</li>\n")
    return "".join(parts)


def _availability(facts: dict, joining: str) -> str:
    """Whether they take people on (since when), how soon, and how they answer messages."""
    said = showing.availability(facts, joining)
    confirmed = f' <span class="confirmed">({said.confirmed})</span>' if said.confirmed else ""
    items = [f'<li class="{said.tone}">{said.text}{confirmed}</li>']
    if said.wait:
        items.append(f"<li>{said.wait}</li>")
    if replies := showing.replies(facts):
        items.append(f"<li>{replies}</li>")
    return "".join(items)


def _photo(name: str, alt: str) -> str:
    """The card's photo: its size set, so the card keeps its space while it loads, and
    loaded only when the card comes near the screen."""
    return (
        f'    <img class="card-photo" src="{html.escape(default_storage.url(name))}"'
        f' width="{CARD_WIDTH}" height="{CARD_HEIGHT}" alt="{html.escape(alt)}"'
        ' loading="lazy" decoding="async">\n'
    )


@functools.lru_cache(maxsize=1024)
def _meeting_day(date, language: str) -> str:
    """“Tuesday 3 March”. Groups meet on a few dozen days in the coming weeks, so one
    page's cards share them; formatting one costs about 70 µs (a translated name for
    the day and for the month). `language` is the active one, so it is the key."""
    return date_format(date, "l j F")


def filter_groups(groups) -> SafeString:
    """Each list filter (services.search.results.FilterGroup) as a folding group of checkboxes."""
    parts = []
    for group in groups:
        name, legend, chosen = escape(group.name), escape(group.legend), group.chosen
        shown = " open" if group.open else ""
        count = f' <span class="muted">({chosen})</span>' if chosen else ""
        parts.append(
            f'<details class="filter-group" id="id_{name}"{shown}>\n'
            f"  <summary>{legend}{count}</summary>\n"
            f'  <fieldset>\n    <legend class="visually-hidden">{legend}</legend>\n'
            f'    <ul class="options">\n{filter_options(group.name, group.options)}    </ul>\n'
            "  </fieldset>\n</details>\n"
        )
    return mark_safe("".join(parts))


def filter_options(name: str, options, *, id_prefix: str = "f-") -> SafeString:
    """The <li> checkboxes of one filter, each with how many results it would give.

    `name` is the parameter of a list filter (the option's value is the value sent), or
    None for the yes/no filters, where each option is its own parameter sent as "1".
    """
    items = []
    for option in options:
        parameter, value = (name, option.value) if name else (option.value, "1")
        input_id = f"{id_prefix}{name}-{option.value}" if name else f"{id_prefix}{option.value}"
        empty = "" if option.count or option.checked else ' class="empty"'
        checked = " checked" if option.checked else ""
        input_id = escape(input_id)
        items.append(
            f"<li{empty}>"
            f'<input type="checkbox" name="{escape(parameter)}" value="{escape(value)}"'
            f' id="{input_id}"{checked}>'
            f' <label for="{input_id}">{escape(option.label)}'
            f' <span class="count">({option.count})</span></label></li>\n'
        )
    return mark_safe("".join(items))


def radius_options(choices, chosen) -> SafeString:
    """The <option>s of the "within" list, in km."""
    return mark_safe(
        "".join(
            f'<option value="{km}"{" selected" if km == chosen else ""}>{km} km</option>'
            for km in choices
        )
    )
