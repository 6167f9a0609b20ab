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
MAX_SEARCH_LENGTH = 200


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
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.lstrip("+-").isdigit()) or len(text) > 12:
        raise BadParameter(name, f"{name} must be a whole number, not {raw[:40]!r}.")
    value = int(text)
    if value < low or (high is not None and value > high):
        limit = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise BadParameter(name, f"{name} must be {limit}, not {value}.")
    return value


def boolean(query, name: str) -> bool:
    raw = _one(query, name)
    if raw is None or raw == "":
        return False
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise BadParameter(name, f"{name} must be true or false, not {raw[:40]!r}.")


def an_id(query, name: str) -> uuid.UUID | None:
    raw = _one(query, name)
    if raw is None or raw == "":
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
    if raw is None or raw == "":
        return None
    value = raw.strip()
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is not None:
                parsed = datetime.datetime.combine(day, datetime.time())
        if parsed is None:
            raise ValueError
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        parsed.astimezone(datetime.UTC)  # out of range for the database?
    except (ValueError, OverflowError):
        raise BadParameter(
            name, f"{name} must be an ISO 8601 date or date-time, not {raw[:40]!r}."
        ) from None
    return parsed


def output_format(query) -> str:
    value = (_one(query, "format") or "json").strip().lower()
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
            page=whole_number(query, "page", 1, low=1),
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
