"""The fixed list of realistic searches the benchmark measures (name, path)."""

SEARCHES = [
    ("home", "/"),
    ("all listings", "/find/"),
    ("words: grief", "/find/?q=grief"),
    ("words: phrase and exclusion", "/find/?q=%22low+mood%22+-online"),
    ("words: synonym", "/find/?q=talk+therapy"),
    ("words: typo", "/find/?q=anxeity"),
    ("place: Leeds 10 km", "/find/?near=Leeds"),
    ("place: postcode district", "/find/?near=LS6&radius=5"),
    ("place: London 25 km by distance", "/find/?near=London&radius=25&sort=distance"),
    ("words + place", "/find/?q=counselling&near=Manchester&radius=25"),
    (
        "counsellors for grief near Leeds",
        "/find/?type=counselling&concern=grief&near=Leeds&radius=25",
    ),
    (
        "Spanish counsellor, grief, fee ceiling",
        "/find/?type=counselling&concern=grief&language=spanish&max_fee=60",
    ),
    (
        "several filters",
        "/find/?concern=anxiety&concern=depression&format=online&accepting=1&verified=1&min_years=5",
    ),
    ("group, free, evening area", "/find/?type=support-groups&free=1&near=Bristol&radius=25"),
    (
        "play therapy for children",
        "/find/?type=play-therapy&age_group=children&near=Birmingham&radius=25",
    ),
    ("sort: fee", "/find/?type=psychotherapy&sort=fee"),
    ("sort: experience", "/find/?concern=trauma&sort=experience"),
    ("sort: name", "/find/?approach=cbt&sort=name"),
    (
        "facet-heavy: many options chosen",
        "/find/?concern=anxiety&concern=grief&concern=stress&approach=cbt&approach=person-centred&language=english&language=polish&format=in_person&format=online",
    ),
    ("gender and insurance", "/find/?gender=woman&insurance=1&sliding_scale=1"),
    ("deep page 500", "/find/?page=500"),
    ("page 1 (for the deep page)", "/find/?page=1"),
    ("empty result", "/find/?type=play-therapy&language=somali&near=Truro&radius=2"),
    ("profile", "PROFILE"),
    ("support type page", "/support/counselling/"),
    ("concern page", "/concerns/grief/"),
]

# For the throughput run: many different results pages, so no cache could answer them.
THROUGHPUT_TOWNS = [
    "Leeds",
    "Manchester",
    "Bristol",
    "Sheffield",
    "Liverpool",
    "Cardiff",
    "Glasgow",
    "Edinburgh",
    "Nottingham",
    "Leicester",
    "Brighton",
    "York",
    "Oxford",
    "Cambridge",
    "Norwich",
    "Exeter",
]
THROUGHPUT_CONCERNS = [
    "anxiety",
    "depression",
    "grief",
    "trauma",
    "relationships",
    "stress",
    "self-esteem",
    "career",
]
THROUGHPUT_TYPES = ["counselling", "psychotherapy", "art-therapy", "play-therapy", "support-groups"]


def throughput_paths() -> list[str]:
    paths = []
    for i, town in enumerate(THROUGHPUT_TOWNS):
        for j, concern in enumerate(THROUGHPUT_CONCERNS):
            kind = THROUGHPUT_TYPES[(i + j) % len(THROUGHPUT_TYPES)]
            paths.append(f"/find/?type={kind}&concern={concern}&near={town}&radius=25")
            paths.append(f"/find/?q={concern}&page={1 + (i * j) % 5}")
    return paths
