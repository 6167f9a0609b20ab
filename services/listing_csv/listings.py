"""The listings sheet: one row per listing, its own fields, languages and communities."""

import datetime
from collections.abc import Callable, Iterator

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.text import slugify

from services.listing_csv.cells import Table
from services.listing_csv.checking import (
    NO,
    YES,
    Change,
    CsvCheck,
    RowPlan,
    shown,
    uuid_or_none,
    yes_no,
)
from services.models import Community, Language, Provider

NAME = "listings"
KEY = "id"
# The columns, in order. Those marked "Information" are exported and never imported.
COLUMNS = [
    ("id", "The listing's UUID. Leave it empty to add a listing."),
    ("name", "Required."),
    ("slug", "The web address (/providers/<slug>/). Empty: made from the name."),
    ("kind", "individual or organisation."),
    ("statement", ""),
    ("pronouns", ""),
    ("practising_since", "A year, e.g. 2009."),
    ("phone", ""),
    ("email", ""),
    ("website", "Without https:// it is taken as https."),
    (
        "accepting_new_clients",
        "yes or no. Changing it dates the change today, unless you give a date.",
    ),
    ("accepting_confirmed_on", "YYYY-MM-DD."),
    ("offers_free_consultation", "yes or no."),
    ("languages", "Slugs separated by ; (e.g. english;polish)."),
    ("communities", "Slugs separated by ;."),
    ("status", "Information: publish with the list's actions."),
    ("last_verified", "Information."),
]
MULTILINE = {"statement"}
TEXT_FIELDS = ["name", "statement", "pronouns", "phone", "email"]
FIELDS = [
    *TEXT_FIELDS,
    "slug",
    "kind",
    "website",
    "practising_since",
    "accepting_new_clients",
    "accepting_confirmed_on",
    "offers_free_consultation",
]
RELATED = {"languages": Language, "communities": Community}
# Not in the file, so not checked again row by row (each would be a query).
UNCHECKED = ["gender", "status_changed_by", "last_verified_by"]


def export_queryset(queryset):
    return queryset.prefetch_related("languages", "communities")


def export_row(provider: Provider) -> list[str]:
    return [
        str(provider.uuid),
        provider.name,
        provider.slug,
        provider.kind,
        provider.statement,
        provider.pronouns,
        str(provider.practising_since or ""),
        provider.phone,
        provider.email,
        provider.website,
        yes_no(provider.accepting_new_clients),
        shown(provider.accepting_confirmed_on),
        yes_no(provider.offers_free_consultation),
        ";".join(sorted(t.slug for t in provider.languages.all())),
        ";".join(sorted(t.slug for t in provider.communities.all())),
        provider.status,
        shown(provider.last_verified),
    ]


def check(table: Table, progress: Callable[[int], None]) -> CsvCheck:
    """Check every row, writing nothing; `progress(n)` hears of each hundred rows checked."""
    result = CsvCheck(NAME)
    ids = [uuid_or_none(values.get("id", "")) for _line, values in table.rows]
    existing = {
        p.uuid: p
        for p in Provider.objects.filter(uuid__in=[i for i in ids if i])
        # For the rules a published listing keeps (Provider.publication_problems()).
        .prefetch_related(
            "languages", "communities", "services__support_type", "services__locations"
        )
    }
    vocabularies = {
        column: {t.slug: t for t in model.objects.all()} for column, model in RELATED.items()
    }
    taken = set(Provider.objects.values_list("slug", flat=True))
    seen_ids, seen_slugs = set(), set()
    for n, ((line, values), provider_id) in enumerate(zip(table.rows, ids, strict=True), 1):
        if n % 100 == 0:
            progress(n)
        raw_id = values.get("id", "")
        if raw_id and provider_id is None:
            result.problem(line, "id", f"“{raw_id}” is not a listing id (a UUID).")
            continue
        if provider_id and provider_id not in existing:
            result.problem(
                line, "id", "There is no listing with this id; leave it empty to add one."
            )
            continue
        if provider_id is not None and provider_id in seen_ids:
            result.problem(line, "id", "This listing is in the file twice.")
            continue
        seen_ids.add(provider_id)
        plan = _row_plan(
            line, values, existing.get(provider_id), vocabularies, taken, seen_slugs, result
        )
        if plan is not None:
            result.plans.append(plan)
    return result


def _row_plan(line, values, existing, vocabularies, taken, seen_slugs, result) -> RowPlan | None:
    problems_before = len(result.problems)

    def problem(column, message):
        result.problem(line, column, message)

    provider = Provider() if existing is None else _copy(existing)
    before = {name: getattr(provider, name) for name in FIELDS}
    present = set(values)
    for name in TEXT_FIELDS:
        if name in present:
            setattr(provider, name, values[name])
    if "website" in present:
        website = values["website"]
        if website and "://" not in website:
            website = f"https://{website}"
        try:
            if website:
                URLValidator()(website)
            provider.website = website
        except ValidationError:
            problem("website", "Enter a web address, e.g. https://example.org.")
    if "kind" in present:
        kind = values["kind"].lower() or Provider.Kind.INDIVIDUAL
        if kind not in Provider.Kind.values:
            problem("kind", "Write individual or organisation.")
        else:
            provider.kind = kind
    for name in ("accepting_new_clients", "offers_free_consultation"):
        if name in present:
            value = values[name].lower()
            if value not in YES | NO:
                problem(name, "Write yes or no.")
            elif value or existing is None:
                setattr(provider, name, value in YES)
    if "practising_since" in present:
        year = values["practising_since"]
        if year and not year.isdigit():
            problem("practising_since", "Write a year, e.g. 2009.")
        else:
            provider.practising_since = int(year) if year else None
    if "accepting_confirmed_on" in present:
        day = values["accepting_confirmed_on"]
        try:
            provider.accepting_confirmed_on = datetime.date.fromisoformat(day) if day else None
        except ValueError:
            problem("accepting_confirmed_on", "Write a date as YYYY-MM-DD.")
    if (
        existing is not None
        and provider.accepting_new_clients != existing.accepting_new_clients
        and provider.accepting_confirmed_on == existing.accepting_confirmed_on
    ):
        # The old date confirmed the old answer: the new one is as of the import.
        provider.accepting_confirmed_on = timezone.localdate()
    slug = values.get("slug", "")
    if slug:
        if slug != slugify(slug):
            problem("slug", "Use lower-case letters, numbers and hyphens.")
        elif (slug in taken and (existing is None or existing.slug != slug)) or slug in seen_slugs:
            problem("slug", "Another listing has this web address.")
        provider.slug = slug
    elif existing is None:
        provider.slug = _free_slug(values.get("name", ""), taken | seen_slugs)
    seen_slugs.add(provider.slug)
    related = {}
    for column, vocabulary in vocabularies.items():
        if column not in present:
            continue
        slugs = [s.strip() for s in values[column].split(";") if s.strip()]
        unknown = [s for s in slugs if s not in vocabulary]
        if unknown:
            problem(column, f"Not in the list: {', '.join(unknown)}.")
        related[column] = [vocabulary[s] for s in slugs if s in vocabulary]
    try:
        # Uniqueness of slugs is checked above, against the directory and the file at once.
        provider.full_clean(exclude=UNCHECKED, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, messages_ in error.message_dict.items():
            column = name if name in dict(COLUMNS) else ""
            for message in messages_:
                problem(column, message)
    if len(result.problems) > problems_before:
        return None
    changes = []
    if existing is not None:
        changes = [
            Change(name, shown(old), shown(getattr(provider, name)))
            for name, old in before.items()
            if getattr(provider, name) != old
        ]
        for column, chosen in related.items():
            old = sorted(t.slug for t in getattr(existing, column).all())
            new = sorted(t.slug for t in chosen)
            if old != new:
                changes.append(Change(column, ";".join(old), ";".join(new)))
    return RowPlan(
        row=line, item=provider, is_new=existing is None, changes=changes, related=related
    )


def _copy(provider: Provider) -> Provider:
    """A separate instance of a saved listing, to change without touching the original."""
    fields = [f.attname for f in Provider._meta.concrete_fields]
    copy = Provider.from_db(provider._state.db, fields, [getattr(provider, f) for f in fields])
    copy._prefetched_objects_cache = dict(getattr(provider, "_prefetched_objects_cache", {}))
    return copy


def _free_slug(name: str, taken: set[str]) -> str:
    base = slugify(name)[:200] or "listing"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def rows(queryset) -> Iterator[list[str]]:
    for provider in export_queryset(queryset).iterator(chunk_size=2000):
        yield export_row(provider)
