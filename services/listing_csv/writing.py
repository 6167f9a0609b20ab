"""Writing a checked file: every row at once, in bulk, with one history entry per listing.

Thousands of rows are written with a few statements per hundred rows rather than several per
row; each listing still gets its own version in the change history (django-reversion), with
what changed, and its own line in the admin's log, as an edit in the admin makes.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone

from services.bulk_writes import rows_update
from services.history import revisions_add
from services.indexing import search_index_write, search_queryset
from services.listing_csv.checking import CsvCheck, RowPlan
from services.models import Location, Provider, Qualification, Service, listings_changed
from services.planner_statistics import planner_statistics_update

BATCH = 500
COMMENT = "Imported from a CSV file."


@dataclass
class Written:
    added: int
    changed: int


def check_write(check: CsvCheck, *, by) -> Written:
    """Write every changed row of a file that checked clean, in one transaction."""
    plans = check.changed
    with transaction.atomic():
        write = _services_write if check.sheet == "services" else _listings_write
        comments = write(plans)
        _index_and_history(comments, by=by)
    planner_statistics_update(
        models=[Provider, Service, Provider.languages.through, Provider.communities.through]
    )
    added = sum(plan.is_new for plan in plans)
    return Written(added=added, changed=len(plans) - added)


def _listings_write(plans: list[RowPlan]) -> dict[int, tuple[int, str]]:
    """{listing id: (admin log flag, history comment)}"""
    now = timezone.now()
    new = [plan.item for plan in plans if plan.is_new]
    for provider in new:
        provider.status = Provider.Status.DRAFT
    Provider.objects.bulk_create(new, batch_size=BATCH)
    changed = [plan for plan in plans if not plan.is_new]
    fields = sorted(
        {
            c.column
            for plan in changed
            for c in plan.changes
            if c.column not in ("languages", "communities")
        }
    )
    for plan in changed:
        plan.item.updated_at = now
    if fields:
        rows_update([plan.item for plan in changed], [*fields, "updated_at"])
    for column in ("languages", "communities"):
        setting = [plan for plan in plans if column in plan.related]
        through = getattr(Provider, column).through
        target = f"{getattr(Provider, column).field.related_model._meta.model_name}_id"
        through.objects.filter(provider_id__in=[plan.item.pk for plan in setting]).delete()
        through.objects.bulk_create(
            [
                through(provider_id=plan.item.pk, **{target: term.pk})
                for plan in setting
                for term in plan.related[column]
            ],
            batch_size=BATCH,
        )
    return {
        plan.item.pk: (ADDITION, COMMENT)
        if plan.is_new
        else (CHANGE, f"{COMMENT} Changed: {plan.changes_said}")
        for plan in plans
    }


def _services_write(plans: list[RowPlan]) -> dict[int, tuple[int, str]]:
    fields = sorted({c.column for plan in plans for c in plan.changes})
    rows_update([plan.item for plan in plans], fields)
    by_listing = defaultdict(list)
    for plan in plans:
        by_listing[plan.item.provider_id].append(f"{plan.item}: {plan.changes_said}")
    Provider.objects.filter(pk__in=list(by_listing)).update(updated_at=timezone.now())
    return {
        listing: (CHANGE, f"{COMMENT} Changed services: {'; '.join(lines)}")
        for listing, lines in by_listing.items()
    }


def _index_and_history(comments: dict[int, tuple[int, str]], *, by) -> None:
    """The listings' search documents and cards rebuilt, then a version of each as it now is
    (with what reversion follows from it) and an admin log line, each saying what the import
    changed. Each batch of listings is read once, for both."""
    ids = list(comments)
    for start in range(0, len(ids), BATCH):
        providers = list(
            search_queryset()
            .filter(pk__in=ids[start : start + BATCH])
            .prefetch_related(*_followed())
        )
        search_index_write(providers)
        revisions_add(
            listings=[(provider, comments[provider.pk][1]) for provider in providers], by=by
        )
    listings_changed(ids)
    logged = defaultdict(list)
    for provider in Provider.objects.filter(pk__in=ids).only("pk", "name"):
        logged[comments[provider.pk]].append(provider)
    for (flag, message), providers in logged.items():
        LogEntry.objects.log_actions(
            user_id=by.pk,
            queryset=providers,
            action_flag=flag,
            change_message=message,
            single_object=len(providers) == 1,
        )


def _followed() -> list[str]:
    """What a listing's version holds besides what search_queryset() reads: the many-to-many
    fields of what reversion follows from a listing."""
    return [
        f"{relation}__{m2m.name}"
        for relation, model in (
            ("qualifications", Qualification),
            ("locations", Location),
            ("services", Service),
        )
        for m2m in model._meta.many_to_many
        if m2m.name not in ("concerns", "approaches")  # read by search_queryset()
    ]
