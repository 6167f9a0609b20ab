"""Write-side operations on visitors' reports of a wrong listing: submit, resolve, dismiss.

Each keeps Provider.open_reports, the flag staff lists show and sort by, right.
"""

from django.db import transaction
from django.utils import timezone

from services.models import Provider, Report


def reports_recount(*, provider_id: int) -> None:
    """Recount a provider's open reports (rather than add or subtract one: it cannot drift).

    Call it in a transaction that has locked the provider's row (Provider.objects.lock), so that
    two changes to one listing's reports are counted one after the other."""
    count = Report.objects.filter(provider_id=provider_id, status=Report.Status.OPEN).count()
    Provider.objects.filter(pk=provider_id).exclude(open_reports=count).update(open_reports=count)


def report_submit(
    *, provider: Provider, problem: str, details: str = "", reporter_email: str = ""
) -> Report:
    """Store a report for the staff queue; no account needed."""
    report = Report(
        provider=provider, problem=problem, details=details, reporter_email=reporter_email
    )
    report.full_clean()
    with transaction.atomic():
        # Without the lock, two reports saved or closed at once could each count before
        # the other commits, and leave the flag one off until the next change.
        Provider.objects.lock(provider.pk)
        report.save()
        reports_recount(provider_id=provider.pk)
    return report


def _close(*, report: Report, status: str, by, resolution: str) -> Report:
    Provider.objects.lock(report.provider_id)
    report = Report.objects.select_for_update().get(pk=report.pk)
    report.status = status
    report.closed_at = timezone.now()
    report.closed_by = by
    report.resolution = resolution.strip()
    report.save(update_fields=["status", "closed_at", "closed_by", "resolution"])
    reports_recount(provider_id=report.provider_id)
    return report


@transaction.atomic
def report_resolve(*, report: Report, by, resolution: str = "") -> Report:
    """The listing was corrected; the resolution note says how (staff pages require one)."""
    return _close(report=report, status=Report.Status.RESOLVED, by=by, resolution=resolution)


@transaction.atomic
def report_dismiss(*, report: Report, by, resolution: str = "") -> Report:
    """Staff checked and nothing needed changing; the note says what they found."""
    return _close(report=report, status=Report.Status.DISMISSED, by=by, resolution=resolution)
