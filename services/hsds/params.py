"""The HSDS API's query parameters, read strictly: a value that is not valid is a 400, never a guess."""

import datetime
import math
import unicodedata
import uuid
from dataclasses import dataclass

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 500
MAX_PAGE = 1_000_000_000
MAX_SEARCH_LENGTH = 200
MAX_PROXIMITY_METRES = 1_000_000


class BadParameter(Exception):
    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def _one(query, name: str) -> str | None:
    values = query.getlist(name)
    if not values:
        return None
    if len(set(values)) > 1:
        raise BadParameter(name, f"Give {name} once.")
    return values[0]


def whole_number(query, name: str, default: int, *, low: int, high: int | None = None) -> int:
    raw = _one(query, name)
    if raw is None:
        return default
    text = raw.strip()
    if not (text.isascii() and text.lstrip("+-").isdigit()) or len(text) > 20:
        raise BadParameter(name, f"{name} must be a whole number, not {raw[:40]!r}.")
    value = int(text)
    if value < low or (high is not None and value > high):
        limit = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise BadParameter(name, f"{name} must be {limit}, not {value}.")
    return value


def boolean(query, name: str) -> bool:
    raw = _one(query, name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise BadParameter(name, f"{name} must be true or false, not {raw[:40]!r}.")


def an_id(query, name: str) -> uuid.UUID | None:
    raw = _one(query, name)
    if raw is None:
        return None
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise BadParameter(name, f"{name} must be a UUID, not {raw[:40]!r}.") from None


def text(query, name: str) -> str:
    raw = _one(query, name) or ""
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r" for ch in raw):
        raise BadParameter(name, f"{name} has characters that cannot be searched for.")
    if len(raw) > MAX_SEARCH_LENGTH:
        raise BadParameter(name, f"{name} can be at most {MAX_SEARCH_LENGTH} characters long.")
    return " ".join(raw.split())


def moment(query, name: str) -> datetime.datetime | None:
    """An ISO 8601 date or date-time; a time without a zone is the directory's local time."""
    raw = _one(query, name)
    if raw is None:
        return None
    # RFC 3339 allows a lower-case "t" and "z", and a leap second, which Python does not.
    value = raw.strip().upper().replace(":60", ":59")
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is not None:
                parsed = datetime.datetime.combine(day, datetime.time())
        if parsed is None:
            raise ValueError
    except ValueError:
        raise BadParameter(
            name, f"{name} must be an ISO 8601 date or date-time, not {raw[:40]!r}."
        ) from None
    try:
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed.astimezone(datetime.UTC)
    except OverflowError:
        # Within a day of the calendar's ends: before everything, or after it.
        edge = datetime.datetime.max if parsed.year > 1 else datetime.datetime.min
        return edge.replace(tzinfo=datetime.UTC)


def output_format(query) -> str:
    raw = _one(query, "format")
    value = "json" if raw is None else raw.strip().lower()
    if value != "json":
        raise BadParameter("format", "Only format=json is offered.")
    return value


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int

    @classmethod
    def from_query(cls, query) -> "Paging":
        return cls(
            page=whole_number(query, "page", 1, low=1, high=MAX_PAGE),
            per_page=whole_number(query, "per_page", DEFAULT_PER_PAGE, low=1, high=MAX_PER_PAGE),
        )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def envelope(self, total: int, contents: list) -> dict:
        """The HSDS paging envelope (the specification's components/schemas/Page)."""
        total_pages = math.ceil(total / self.per_page)
        return {
            "total_items": total,
            "total_pages": total_pages,
            "page_number": self.page,
            "size": self.per_page,
            "first_page": self.page == 1,
            "last_page": self.page >= total_pages,
            "empty": not contents,
            "contents": contents,
        }


@dataclass(frozen=True)
class Proximity:
    """postcode (and proximity, in metres): where a person is, for service_at_locations."""

    outward: str
    latitude: float | None = None
    longitude: float | None = None
    metres: int | None = None

    @classmethod
    def from_query(cls, query) -> "Proximity | None":
        from services import geo

        raw_postcode = text(query, "postcode")
        raw_metres = _one(query, "proximity")
        metres = whole_number(query, "proximity", 0, low=1, high=MAX_PROXIMITY_METRES)
        if _one(query, "postcode") is None:
            return None  # proximity alone measures from nowhere: the OpenAPI document says so
        postcode = geo.POSTCODE.fullmatch("".join(raw_postcode.split()).upper())
        if not postcode:
            raise BadParameter("postcode", f"{raw_postcode[:40]!r} is not a postcode.")
        if raw_metres is None:
            return cls(outward=postcode[1])
        # A postcode no listing is in has nothing near it that this directory knows of.
        found = geo.resolve_place(raw_postcode).place
        return cls(
            postcode[1],
            found.latitude if found else None,
            found.longitude if found else None,
            metres,
        )
