"""HSDS fields into model fields: texts, dates, fees, a group's meeting rule, qualifications."""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone

from services.hsds import objects as out
from services.hsds.checks import Report
from services.models import Location, Qualification, Service


def text(value) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def date(value, where, path, report) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        report.error(where, path, f"{value!r} is not a date (YYYY-MM-DD)")
        return None


def time(value, where, path, report) -> datetime.time | None:
    if not value:
        return None
    try:
        return datetime.time.fromisoformat(str(value))
    except ValueError:
        report.error(where, path, f"{value!r} is not a time (HH:MM or HH:MM:SS)")
        return None


def model_errors(error: ValidationError, fields: dict[str, str]) -> list[tuple[str, str]]:
    """A model's validation errors as (HSDS field, message)."""
    if not hasattr(error, "error_dict"):
        return [("", message) for message in error.messages]
    return [
        (fields.get(name, name), message)
        for name, errors in error.error_dict.items()
        for message in ValidationError(errors).messages
    ]


PROVIDER_FIELDS = {
    "name": "name",
    "statement": "description",
    "email": "email",
    "website": "website",
    "phone": "phones[0].number",
    "practising_since": "year_incorporated",
    "accepting_confirmed_on": "attributes (accepting-new-clients)",
}
LOCATION_FIELDS = {
    "name": "name",
    "address_line1": "addresses[0].address_1",
    "address_line2": "addresses[0].address_2",
    "town": "addresses[0].city",
    "region": "addresses[0].state_province",
    "postcode": "addresses[0].postal_code",
    "country": "addresses[0].country",
    "accessibility_notes": "accessibility[0].details",
    "opening_hours": "schedules[0].description",
}
SERVICE_FIELDS = {
    "name": "name",
    "fee_min": "cost_options",
    "fee_max": "cost_options",
    "currency": "cost_options[0].currency",
    "is_free": "cost_options",
    "offers_in_person": "attributes (in-person, online, phone)",
    "insurers": "attributes (accepts-insurance)",
    "group_weekday": "schedules[0].byday",
    "group_frequency": "schedules[0].freq",
    "group_start_time": "schedules[0].opens_at",
    "group_end_time": "schedules[0].closes_at",
    "group_facilitator": "schedules[0].notes",
    "group_starts_on": "schedules[0].dtstart",
}
HSDS_STATUS = {value: key for key, value in out.STATUS.items()}
WHEELCHAIR_LABELS = {label.lower(): value for value, label in Location.WheelchairAccess.choices}
CONFIRMED_LABELS = {label.lower(): value for value, label in Location.ConfirmedBy.choices}
WHEELCHAIR_PATTERN = re.compile(
    rf"^{out.WHEELCHAIR}: (?P<access>[^.]+)\.(?: Confirmed by: (?P<by>.+)\.)?$"
)
_BYDAY = re.compile(r"^(?P<week>[1-5])?(?P<day>MO|TU|WE|TH|FR|SA|SU)$")
_KIND_BY_PREFIX = {prefix: kind for kind, prefix in out.KIND_PREFIX.items()}


def fit(text: str, limit: int, where: str, path: str, report: Report) -> str:
    """The text, shortened to the field's length with a warning if it is longer."""
    if len(text) <= limit:
        return text
    report.warn(where, path, f"shortened to {limit} characters")
    return text[: limit - 1] + "…"


def read_qualification(
    line: str, licence: bool, where: str, path: str, report: Report
) -> Qualification | None:
    """A line of `licenses` or `accreditations` (our own "Title · issued by X · ...") as a Qualification."""
    parts = line.split(out.SEPARATOR)
    title = parts[0]
    kind = Qualification.Kind.LICENCE if licence else Qualification.Kind.CERTIFICATION
    for prefix, prefixed_kind in _KIND_BY_PREFIX.items():
        if not licence and title.startswith(prefix):
            kind, title = prefixed_kind, title.removeprefix(prefix)
    q = Qualification(kind=kind, title=title.strip())
    for part in parts[1:]:
        if part.startswith("issued by "):
            q.issuer = part.removeprefix("issued by ")
        elif part.startswith("no. "):
            q.number = part.removeprefix("no. ")
        elif part.startswith("region "):
            q.region = part.removeprefix("region ")
        elif part.startswith("verified "):
            q.verified_on = date(part.removeprefix("verified "), where, path, report)
        elif part.isdigit() and len(part) == 4:
            q.year = int(part)
        else:
            q.title = f"{q.title}{out.SEPARATOR}{part}"  # not ours: keep the words
    if len(q.title) > 200:
        report.warn(
            where, path, f"a qualification was shortened to 200 characters: “{q.title[:60]}…”"
        )
        q.title = q.title[:199] + "…"
    try:
        q.clean_fields(exclude=["provider"])
        q.clean()
    except ValidationError as error:
        for field_name, message in model_errors(error, {}):
            report.error(where, path, f"{field_name}: {message}" if field_name else message)
        return None
    return q


def read_fees(service: Service, options: list, where: str, path: str, report: Report) -> None:
    """cost_options into the service's fees: our own labels exactly, others' as a range."""
    service.is_free, service.fee_min, service.fee_max = False, None, None
    if not options:
        return
    labels = {o.get("option"): o for o in options}
    currencies = {(o.get("currency") or "GBP").upper() for o in options}
    if len(currencies) > 1:
        report.warn(
            where,
            f"{path}cost_options",
            f"fees in more than one currency; {sorted(currencies)[0]} is kept",
        )
    service.currency = sorted(currencies)[0]
    amounts = []
    for n, option in enumerate(options):
        if "amount" not in option:
            continue
        try:
            amounts.append(Decimal(str(option["amount"])).quantize(Decimal("0.01")))
        except InvalidOperation:
            report.error(where, f"{path}cost_options[{n}].amount", "is not an amount")
            return
    if out.FREE in labels:
        service.is_free = True
    elif out.PER_SESSION in labels:
        service.fee_min = service.fee_max = amounts[0] if amounts else None
    elif out.LOWEST in labels or out.HIGHEST in labels:
        for label, attr in ((out.LOWEST, "fee_min"), (out.HIGHEST, "fee_max")):
            if label in labels and "amount" in labels[label]:
                setattr(
                    service,
                    attr,
                    Decimal(str(labels[label]["amount"])).quantize(Decimal("0.01")),
                )
    elif amounts and all(a == 0 for a in amounts):
        service.is_free = True
    elif amounts:
        service.fee_min, service.fee_max = min(amounts), max(amounts)
    if any(a < 0 for a in amounts):
        report.error(where, f"{path}cost_options", "a fee cannot be negative")


def read_schedule(service: Service, schedules: list, where: str, path: str, report: Report) -> None:
    """The first RFC 5545 rule among the schedules into the group's meeting fields."""
    for name in ("group_weekday", "group_start_time", "group_end_time", "group_starts_on"):
        setattr(service, name, None)
    service.group_frequency = service.group_facilitator = ""
    rules = [s for s in schedules if s.get("freq")]
    if not rules:
        return
    rule, spath = rules[0], f"{path}schedules[{schedules.index(rules[0])}]"
    if len(rules) > 1:
        report.warn(where, f"{path}schedules", "only the first meeting rule is kept")
    days = [d.strip() for d in (rule.get("byday") or "").split(",") if d.strip()]
    week = None
    if days:
        match = _BYDAY.match(days[0].upper())
        if not match:
            report.error(
                where, f"{spath}.byday", f"{days[0]!r} is not an RFC 5545 day (MO, 2TU, ...)"
            )
            return
        service.group_weekday = out.WEEKDAYS.index(match["day"])
        week = int(match["week"]) if match["week"] else None
        if len(days) > 1:
            report.warn(where, f"{spath}.byday", f"only the first day ({days[0]}) is kept")
    interval = rule.get("interval") or 1
    if rule["freq"] == "MONTHLY":
        service.group_frequency = Service.Frequency.MONTHLY
    elif interval == 2:
        service.group_frequency = Service.Frequency.FORTNIGHTLY
    else:
        service.group_frequency = Service.Frequency.WEEKLY
        if interval != 1:
            report.warn(where, f"{spath}.interval", f"every {interval} weeks is kept as every week")
    service.group_starts_on = date(rule.get("dtstart"), where, f"{spath}.dtstart", report)
    if (
        service.group_frequency == Service.Frequency.MONTHLY
        and week
        and service.group_weekday is not None
    ):
        anchor = service.group_starts_on
        if (
            not anchor
            or anchor.weekday() != service.group_weekday
            or (anchor.day - 1) // 7 + 1 != week
        ):
            service.group_starts_on = nth_weekday_after(
                anchor or timezone.localdate(), service.group_weekday, week
            )
    service.group_start_time = time(rule.get("opens_at"), where, f"{spath}.opens_at", report)
    service.group_end_time = time(rule.get("closes_at"), where, f"{spath}.closes_at", report)
    notes = (rule.get("notes") or "").strip()
    if notes.startswith(out.FACILITATED_BY):
        service.group_facilitator = notes.removeprefix(out.FACILITATED_BY)[:200]


def nth_weekday_after(day: datetime.date, weekday: int, week: int) -> datetime.date:
    """The first date from `day`'s month on that is the week-th such weekday of its month."""
    year, month = day.year, day.month
    for _ in range(24):
        first = datetime.date(year, month, 1)
        candidate = first + datetime.timedelta(
            days=(weekday - first.weekday()) % 7 + 7 * (week - 1)
        )
        if candidate.month == month:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return day
