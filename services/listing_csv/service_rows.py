"""The services sheet: one row per service, with its fees, formats and places, so fees and
formats can be changed in bulk. Services are added and removed on the listing's page."""

from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

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
from services.models import Provider, Service, SupportType

NAME = "services"
KEY = "service_id"
COLUMNS = [
    ("service_id", "The service's UUID. Required: each row changes a service that exists."),
    ("listing_id", "Information: the listing's UUID."),
    ("listing", "Information: the listing's name."),
    ("support_type", "The kind of support, as a slug (e.g. counselling, support-groups)."),
    ("name", "Optional, e.g. Grief and loss group."),
    ("fee_min", "The lowest fee per session, e.g. 45 or 45.50. Empty: not stated."),
    ("fee_max", "The highest fee per session. Empty: not stated."),
    ("currency", "ISO 4217 code, e.g. GBP."),
    ("sliding_scale", "yes or no."),
    ("is_free", "yes or no. A free service has no fees."),
    ("accepts_insurance", "yes or no."),
    ("insurers", ""),
    ("offers_in_person", "yes or no."),
    ("offers_online", "yes or no."),
    ("offers_phone", "yes or no."),
    ("places", "Information: where it is offered in person (change places on the listing's page)."),
]
MULTILINE: set[str] = set()
FEES = ["fee_min", "fee_max"]
FLAGS = [
    "sliding_scale",
    "is_free",
    "accepts_insurance",
    "offers_in_person",
    "offers_online",
    "offers_phone",
]
TEXTS = ["name", "currency", "insurers"]
FIELDS = ["support_type", *TEXTS, *FEES, *FLAGS]


def export_queryset(queryset):
    """The services of these listings, listing by listing."""
    return (
        Service.objects.filter(provider__in=queryset.values("pk"))
        .select_related("provider", "support_type")
        .prefetch_related("locations")
        .order_by("provider__name", "provider_id", "pk")
    )


def export_row(service: Service) -> list[str]:
    return [
        str(service.uuid),
        str(service.provider.uuid),
        service.provider.name,
        service.support_type.slug,
        service.name,
        shown(service.fee_min),
        shown(service.fee_max),
        service.currency,
        *(yes_no(getattr(service, flag)) for flag in FLAGS[:3]),
        service.insurers,
        *(yes_no(getattr(service, flag)) for flag in FLAGS[3:]),
        "; ".join(str(location) for location in service.locations.all()),
    ]


def rows(queryset) -> Iterator[list[str]]:
    for service in export_queryset(queryset).iterator(chunk_size=2000):
        yield export_row(service)


def check(table: Table, progress: Callable[[int], None]) -> CsvCheck:
    """Check every row, writing nothing; `progress(n)` hears of each hundred rows checked."""
    result = CsvCheck(NAME)
    ids = [uuid_or_none(values.get(KEY, "")) for _line, values in table.rows]
    existing = {
        s.uuid: s
        for s in Service.objects.filter(uuid__in=[i for i in ids if i])
        .select_related("provider", "support_type")
        .prefetch_related("locations")
    }
    support_types = {t.slug: t for t in SupportType.objects.all()}
    seen = set()
    for n, ((line, values), service_id) in enumerate(zip(table.rows, ids, strict=True), 1):
        if n % 100 == 0:
            progress(n)
        raw = values.get(KEY, "")
        if not raw:
            result.problem(
                line, KEY, "Give the service's id: add new services on the listing's page."
            )
        elif service_id is None:
            result.problem(line, KEY, f"“{raw}” is not a service id (a UUID).")
        elif service_id not in existing:
            result.problem(line, KEY, "There is no service with this id.")
        elif service_id in seen:
            result.problem(line, KEY, "This service is in the file twice.")
        else:
            seen.add(service_id)
            plan = _row_plan(line, values, existing[service_id], support_types, result)
            if plan is not None:
                result.plans.append(plan)
    return result


def _row_plan(line, values, existing: Service, support_types, result) -> RowPlan | None:
    problems_before = len(result.problems)

    def problem(column, message):
        result.problem(line, column, message)

    service = _copy(existing)
    before = {name: getattr(service, name) for name in FIELDS}
    present = set(values)
    if "support_type" in present:
        support_type = support_types.get(values["support_type"])
        if support_type is None:
            problem("support_type", f"Not in the list: {values['support_type'] or '(empty)'}.")
        else:
            service.support_type = support_type
    for name in TEXTS:
        if name in present:
            setattr(service, name, values[name].upper() if name == "currency" else values[name])
    for name in FEES:
        if name in present:
            value = values[name].replace("£", "").replace(",", "")
            try:
                setattr(service, name, Decimal(value) if value else None)
            except InvalidOperation:
                problem(name, "Write a number of pounds, e.g. 45 or 45.50, or leave it empty.")
    for name in FLAGS:
        if name in present:
            value = values[name].lower()
            if value not in YES | NO or not value:
                problem(name, "Write yes or no.")
            else:
                setattr(service, name, value in YES)
    provider: Provider = existing.provider
    if (
        provider.status == Provider.Status.PUBLISHED
        and service.offers_in_person
        and not existing.locations.all()
    ):
        problem(
            "offers_in_person",
            "This published listing has no place for the service: add one on the listing's "
            "page before offering it in person.",
        )
    try:
        service.full_clean(
            exclude=["provider", "support_type"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        for name, messages_ in error.message_dict.items():
            column = name if name in dict(COLUMNS) else ""
            for message in messages_:
                problem(column, message)
    if len(result.problems) > problems_before:
        return None
    changes = [
        Change(name, _value(old), _value(getattr(service, name)))
        for name, old in before.items()
        if getattr(service, name) != old
    ]
    return RowPlan(row=line, item=service, is_new=False, changes=changes)


def _value(value) -> str:
    return value.slug if isinstance(value, SupportType) else shown(value)


def _copy(service: Service) -> Service:
    fields = [f.attname for f in Service._meta.concrete_fields]
    copy = Service.from_db(service._state.db, fields, [getattr(service, f) for f in fields])
    copy.support_type = service.support_type
    copy.provider = service.provider
    return copy
