"""What checking a file found: each row's plan (its changes, old and new) and each problem."""

import uuid
from dataclasses import dataclass, field

from django.db import models

from services.listing_csv.cells import FileProblem

YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


@dataclass
class Change:
    column: str
    old: str
    new: str

    SAID_UP_TO = 40  # characters of a value said in the history; a longer one is "changed"

    def said(self) -> str:
        """For the change history: the column, with its old and new values if they are short."""
        if max(len(self.old), len(self.new)) > self.SAID_UP_TO or "\n" in self.old + self.new:
            return f"{self.column} (changed)"
        return f"{self.column} {self.old or '(empty)'} → {self.new or '(empty)'}"


@dataclass
class RowPlan:
    row: int
    item: models.Model  # the listing, or the service, as it will be saved
    is_new: bool
    changes: list[Change] = field(default_factory=list)
    # Many-to-many values to set, by field name, where the file gives them.
    related: dict[str, list] = field(default_factory=dict)

    @property
    def changes_said(self) -> str:
        return ", ".join(change.said() for change in self.changes)


@dataclass
class CsvCheck:
    sheet: str  # "listings" or "services"
    plans: list[RowPlan] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    formulas: list[FileProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.plans)

    @property
    def changed(self) -> list[RowPlan]:
        return [plan for plan in self.plans if plan.is_new or plan.changes]

    def problem(self, row: int, column: str, message: str) -> None:
        self.problems.append(FileProblem(row, column, message))


def shown(value) -> str:
    """A field's value as a cell shows it, for the preview's "old → new"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None
