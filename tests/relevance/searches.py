"""The relevance set: searches as people type them, and what a good answer contains.

Each case is a name, the query parameters of /find/ as a person would fill them in, and
what a good directory answers, from this fixed set:

    place                   the place resolved; or (latitude, longitude, km): resolved within
                            km of those coordinates
    place_offered           (latitude, longitude, km): a place misspelt is not guessed, but the
                            first place offered instead ("Did you mean") is within km of them
    results                 at least one result
    urgent                  True: urgent help opens the page, before any result (words of
                            crisis); False: it does not (everyday words that only look like it)
    nearest_in_first_three  the listing nearest to the place, of all the results, is among the
                            first three
    first_fee_within        the first result's fee line (its lead service) is within
                            max_fee: "Free", or its first amount at most max_fee
    concern_found           the words were understood as this concern or kind of support

check(case, context, html) returns what a response missed; tests/relevance/run.py runs
them all (the tests, `make relevance` and `make bench`).
"""

import math
import re

# Coordinates the places should resolve near (a district's centre is within a few km).
LEEDS = (53.8008, -1.5491)
HEADINGLEY = (53.8194, -1.5790)  # LS6
HAREHILLS = (53.8139, -1.5107)  # an area of Leeds the postcode data names
MANCHESTER = (53.4808, -2.2426)
LONDON = (51.5074, -0.1278)
BIRMINGHAM = (52.4862, -1.8904)
BRISTOL = (51.4545, -2.5879)
GLASGOW = (55.8642, -4.2518)
EDINBURGH = (55.9533, -3.1883)
CARDIFF = (51.4816, -3.1791)
BELFAST = (54.5973, -5.9301)
NEWCASTLE = (54.9783, -1.6178)
SHEFFIELD = (53.3811, -1.4701)
NOTTINGHAM = (52.9548, -1.1581)
LIVERPOOL = (53.4084, -2.9916)
OXFORD = (51.7520, -1.2577)
CAMBRIDGE = (52.2053, 0.1218)
YORK = (53.9600, -1.0873)
BRIGHTON = (50.8225, -0.1372)
STOKE = (53.0027, -2.1794)
COVENTRY = (52.4068, -1.5197)
SOUTHAMPTON = (50.9097, -1.4044)


def _case(name, expect, **params):
    return {"name": name, "params": params, "expect": expect}


def _place(name, near, at, km=8):
    """A place typed on its own: it resolves near `at`, listings are found, nearest first."""
    return _case(
        name,
        {"place": (*at, km), "results": True, "nearest_in_first_three": True, "urgent": False},
        near=near,
    )


def _words(name, q, concern=None, **params):
    """Everyday words: results, no urgent help, and (optionally) the concern they mean."""
    expect = {"results": True, "urgent": False}
    if concern:
        expect["concern_found"] = concern
    return _case(name, expect, q=q, **params)


def _crisis(name, q, **params):
    """Words of crisis: urgent help opens the page."""
    return _case(name, {"urgent": True}, q=q, **params)


CASES = [
    # Postcodes of every form: outward codes, full codes, any case or spacing.
    _place("outward code LS6", "LS6", HEADINGLEY),
    _place("full postcode in lower case", "ls6 3aa", HEADINGLEY),
    _place("full postcode without its space", "LS63AA", HEADINGLEY),
    _place("postcode with stray spaces", "  ls6   3aa ", HEADINGLEY),
    _place("outward code M1", "M1", MANCHESTER),
    _place("full postcode M1 1AE", "m1 1ae", MANCHESTER),
    _place("central London postcode SW1A 1AA", "SW1A 1AA", LONDON),
    _place("London outward code sw11", "sw11", LONDON, km=10),
    _place("London outward code N1", "N1", LONDON),
    _place("London postcode E1 6AN", "E1 6AN", LONDON, km=10),
    _place("London EC postcode", "EC1A 1BB", LONDON),
    _place("London W1 postcode", "W1A 1AA", LONDON),
    _place("Birmingham postcode B15 2TT", "B15 2TT", BIRMINGHAM),
    _place("Bristol outward code", "BS1", BRISTOL),
    _place("Bristol postcode lower case", "bs8 1tb", BRISTOL),
    _place("Glasgow postcode", "G12 8QQ", GLASGOW),
    _place("Edinburgh postcode", "EH1 1YZ", EDINBURGH),
    _place("Cardiff postcode", "CF10 3AT", CARDIFF),
    _place("Belfast outward code", "BT1", BELFAST),
    _place("Newcastle postcode", "NE1 4ST", NEWCASTLE),
    _place("Sheffield postcode", "S10 2TN", SHEFFIELD),
    _place("Nottingham outward code", "NG1", NOTTINGHAM),
    _place("Liverpool postcode", "L1 8JQ", LIVERPOOL),
    _place("Oxford postcode", "OX1 2JD", OXFORD),
    _place("Cambridge postcode", "CB2 1TN", CAMBRIDGE),
    _place("York postcode", "YO1 7HH", YORK),
    _place("Brighton postcode", "BN1 1AA", BRIGHTON),
    # Towns as people write them.
    _place("town", "Leeds", LEEDS),
    _place("town in lower case with its county", "leeds, west yorkshire", LEEDS),
    _place("town with its county", "Leeds, West Yorkshire", LEEDS),
    _case("misspelt city manchster", {"place_offered": (*MANCHESTER, 8)}, near="manchster"),
    _case("misspelt city Edinbrugh", {"place_offered": (*EDINBURGH, 8)}, near="Edinbrugh"),
    _case("misspelt city birmingam", {"place_offered": (*BIRMINGHAM, 8)}, near="birmingam"),
    _place("Newcastle, as people in the North East say it", "Newcastle", NEWCASTLE, km=10),
    _place("an area of a city", "Harehills", HAREHILLS, km=3),
    _place("Stoke on Trent without hyphens", "Stoke on Trent", STOKE),
    _place("London", "London", LONDON),
    _place("Bristol", "Bristol", BRISTOL),
    _place("Cardiff", "cardiff", CARDIFF),
    _place("Glasgow", "Glasgow", GLASGOW),
    _place("Coventry", "Coventry", COVENTRY),
    _place("Southampton", "Southampton", SOUTHAMPTON),
    # Everyday phrases.
    _words("bereavement, husband", "my husband passed away", "Grief"),
    _words("bereavement, dad", "my dad died", "Grief"),
    _words("panic", "panicking all the time", "Anxiety"),
    _words("worry", "can't stop worrying", "Anxiety"),
    _words("sleep", "can't sleep", None),
    _words("work stress", "stressed at work", "Stress"),
    _words("drinking", "drinking too much", "Addiction"),
    _words("arguing couple", "we argue all the time", "Relationship"),
    _words("divorce", "getting divorced", None),
    _words("low mood", "feeling down", "Depression"),
    _words("self-esteem is not a crisis", "self-esteem", "esteem"),
    _words("self esteem without hyphen", "self esteem", "esteem"),
    _words("play therapy for a child", "play therapy for my son", "Play"),
    _words("school refusal", "my son wont go to school", None),
    _words("burnout", "burnt out", None),
    _words("miscarriage", "miscarriage", "Grief"),
    _words("obsessive thoughts", "ocd", "OCD"),
    _words("trauma", "ptsd"),
    _words("flashbacks", "flashbacks", "Trauma"),
    _words("someone to talk to", "someone to talk to", None),
    _words("couples", "couples counselling", None),
    _words("an approach by name", "cbt", None),
    _words("EMDR", "emdr", None),
    _words("lonely", "lonely", None),
    _words("anger management", "anger management", None),
    # Misspellings of what people look for.
    _words("misspelt anxiety", "anxeity"),
    _words("misspelt depression", "depresion"),
    _words("misspelt grief", "greif"),
    _words("misspelt counselling", "counceling"),
    _words("misspelt bereavement", "bereavment"),
    _words("misspelt trauma", "truama"),
    _words("misspelt psychotherapy", "pyschotherapy"),
    # Words of crisis: urgent help first, whatever else is searched.
    _crisis("wanting to die", "I want to die"),
    _crisis("suicidal", "suicidal"),
    _crisis("misspelt suicidal", "i feel sucidal"),
    _crisis("kill myself", "i want to kill myself"),
    _crisis("self-harm", "self harm"),
    _crisis("cutting", "I keep cutting myself"),
    _crisis("domestic violence now", "he hits me"),
    _crisis("afraid of a partner", "scared of my partner"),
    _crisis("cannot go on", "i cant go on"),
    _crisis("overdose", "thinking about an overdose"),
    _crisis("a burden", "everyone would be better off without me"),
    _crisis("crisis words with a place", "I want to die", near="Leeds"),
    _crisis("crisis words with filters", "suicidal thoughts", near="M1", max_fee="40"),
    # Everyday words that only look like crisis words.
    _case("killing time", {"urgent": False}, q="killing time"),
    _words("dead end job", "dead end job"),
    _words("death of a father", "death of my father", "Grief"),
    _words("childhood abuse", "childhood abuse", "Abuse"),
    _words("fear of dying", "fear of dying"),
    # Filters with places, fee ceilings and group times.
    _case(
        "grief near Leeds under £50 online",
        {"place": (*LEEDS, 8), "results": True, "first_fee_within": True, "urgent": False},
        q="grief",
        near="Leeds",
        max_fee="50",
        format="online",
    ),
    _case(
        "evening group in London",
        {"place": (*LONDON, 8), "results": True, "nearest_in_first_three": True},
        near="London",
        type="support-groups",
        times="evening",
    ),
    _case(
        "weekend group in Manchester",
        {"place": (*MANCHESTER, 8), "results": True, "nearest_in_first_three": True},
        near="Manchester",
        type="support-groups",
        times="weekend",
    ),
    _case(
        "daytime group in London",
        {"place": (*LONDON, 8), "results": True, "nearest_in_first_three": True},
        near="London",
        type="support-groups",
        times="daytime",
    ),
    _case(
        "under £40 near Leeds",
        {"place": True, "results": True, "first_fee_within": True, "nearest_in_first_three": True},
        near="Leeds",
        max_fee="40",
    ),
    _case(
        "free near Manchester",
        {"place": True, "results": True, "first_fee_within": True, "nearest_in_first_three": True},
        near="Manchester",
        free="1",
        max_fee="0",
    ),
    _case(
        "sliding scale near Birmingham",
        {"place": True, "results": True, "nearest_in_first_three": True},
        near="Birmingham",
        sliding_scale="1",
    ),
    _case(
        "accepting and step-free in Sheffield",
        {"place": True, "results": True, "nearest_in_first_three": True},
        near="Sheffield",
        accepting="1",
        wheelchair="1",
    ),
    _case(
        "anxiety in person near a Glasgow postcode",
        {"place": (*GLASGOW, 8), "results": True, "nearest_in_first_three": True},
        near="G2",
        concern="anxiety",
        format="in_person",
    ),
    _case(
        "depression within 10 km of LS6",
        {"place": (*HEADINGLEY, 8), "results": True, "nearest_in_first_three": True},
        near="LS6",
        concern="depression",
        radius="10",
    ),
    _case(
        "play therapy for children near Nottingham",
        {"place": True, "results": True, "nearest_in_first_three": True},
        near="Nottingham",
        type="play-therapy",
        age_group="children",
    ),
    _case(
        "nearest first in Edinburgh",
        {"place": True, "results": True, "nearest_in_first_three": True},
        near="Edinburgh",
        sort="distance",
    ),
    _case(
        "cheapest first near B15 under £60",
        {"place": True, "results": True, "first_fee_within": True},
        near="B15",
        max_fee="60",
        sort="fee",
    ),
    _case(
        "anxiety near M1 under £45",
        {"place": True, "results": True, "first_fee_within": True, "concern_found": "Anxiety"},
        q="anxiety",
        near="M1",
        max_fee="45",
    ),
    _case(
        "online under £30",
        {"results": True, "first_fee_within": True},
        format="online",
        max_fee="30",
    ),
    _case(
        "CBT in London under £70",
        {"place": True, "results": True, "first_fee_within": True},
        q="cbt",
        near="London",
        max_fee="70",
    ),
    _case(
        "bereavement phrase near a postcode under £50",
        {"place": (*HEADINGLEY, 8), "results": True, "first_fee_within": True, "urgent": False},
        q="my mum passed away",
        near="ls6 3aa",
        max_fee="50",
    ),
    _case(
        "evening relationship counselling in Leeds",
        {"place": (*LEEDS, 8), "results": True},
        q="relationship",
        near="Leeds",
        times="evening",
    ),
    _case(
        "Polish-speaking counsellor in London",
        {"place": True, "results": True, "nearest_in_first_three": True},
        near="London",
        language="polish",
    ),
    _case(
        "counselling under £35 in London",
        {"place": (*LONDON, 8), "results": True, "first_fee_within": True},
        type="counselling",
        near="London",
        max_fee="35",
    ),
    _case(
        "depression near a London postcode under £60",
        {"place": (*LONDON, 10), "results": True, "first_fee_within": True},
        q="depression",
        near="SW11",
        max_fee="60",
    ),
    _case(
        "low mood online from Glasgow under £50",
        {
            "place": (*GLASGOW, 8),
            "results": True,
            "first_fee_within": True,
            "concern_found": "Depression",
        },
        q="feeling down",
        near="Glasgow",
        max_fee="50",
        format="online",
    ),
    _case(
        "phone support under £50",
        {"results": True, "first_fee_within": True},
        format="phone",
        max_fee="50",
    ),
]


# Checking


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(h))


def fee_of(line: str) -> float | None:
    """The amount a card's fee line leads with: "Free" is 0, else its first number."""
    if line.strip().lower().startswith("free"):
        return 0
    number = re.search(r"\d+(?:[.,]\d+)*", line or "")
    return float(number.group().replace(",", "")) if number else None


def _nearest_km(context) -> float | None:
    """The distance of the nearest of all the results (not only this page's), or None.

    Read from the listing index's distances for every result (services/search/matching.py),
    as loading a card per result would cost seconds at a million listings.
    """
    import numpy as np

    found = context["paginator"].object_list
    nearest = None
    for part in found.parts:
        km = part.found.distance_of(part.ordered.positions)
        if km is None:
            continue
        km = km[np.isfinite(km)]
        if len(km):
            nearest = float(km.min()) if nearest is None else min(nearest, float(km.min()))
    return nearest


def check(case: dict, context, html: str = "") -> list[str]:
    """What the response to this case missed (an empty list: everything met).

    `context` is the results page's template context (response.context), `html` its body.
    """
    expect, params = case["expect"], case["params"]
    failures = []
    form = context["form"]
    refused = set(form.errors) - ({"near"} if "place_offered" in expect else set())
    if refused:
        failures.append(f"the search was refused: {dict(form.errors)}")
    criteria, paginator = context["criteria"], context["paginator"]
    page = list(context["page"].object_list)
    place = criteria.place

    wanted = expect.get("place")
    if wanted:
        if place is None:
            choices = [c.label for c in context["place_choices"] or ()]
            failures.append(
                f"place {params.get('near')!r} not resolved"
                + (f" (offered {choices})" if choices else "")
            )
        elif isinstance(wanted, tuple):
            *at, km = wanted
            away = _km((place.latitude, place.longitude), tuple(at))
            if away > km:
                failures.append(f"place resolved to {place.label}, {away:.0f} km from {at}")

    offered = expect.get("place_offered")
    if offered:
        *at, km = offered
        choices = list(context["place_choices"] or ())
        if place is not None:
            failures.append(f"{params.get('near')!r} taken as {place.label} without asking")
        elif not choices:
            failures.append(f"no place offered for {params.get('near')!r}")
        elif _km((choices[0].latitude, choices[0].longitude), tuple(at)) > km:
            failures.append(f"first place offered is {choices[0].label}, not one near {at}")

    if expect.get("results") and paginator.count == 0:
        failures.append("no results")

    if "urgent" in expect:
        shown = bool(context["urgent"])
        if shown != expect["urgent"]:
            failures.append("urgent help " + ("missing" if expect["urgent"] else "shown"))
        elif shown and html:
            main = html[html.find("<main") :]
            urgent_at, results_at = main.find('class="urgent-help"'), main.find('class="results"')
            if urgent_at < 0 or (results_at >= 0 and results_at < urgent_at):
                failures.append("urgent help is not before the results")

    if expect.get("nearest_in_first_three") and place is not None and page:
        nearest = _nearest_km(context)
        first = [r.distance_km for r in page[:3] if r.distance_km is not None]
        if nearest is not None and (not first or min(first) > nearest + 0.05):
            failures.append(
                f"nearest result is {nearest:.1f} km away, the first three are "
                f"{', '.join(f'{d:.1f}' for d in first)} km"
            )

    if expect.get("first_fee_within") and page:
        ceiling = float(params["max_fee"])
        line = getattr(page[0], "card_fees", "") or ""
        fee = fee_of(line)
        if fee is None or fee > ceiling:
            failures.append(f"first result's fee line {line!r} is not within £{ceiling:g}")

    concern = expect.get("concern_found")
    if concern:
        understood = [str(name) for name in context["understood"] or ()]
        corrected = context["criteria"].data.get("q") or ""
        if not any(concern.lower() in name.lower() for name in understood) and (
            concern.lower() not in corrected.lower()
        ):
            failures.append(f"{concern!r} not understood (understood {understood})")
    return failures
