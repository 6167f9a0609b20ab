"""Write-side operations on visitors' reports of a wrong listing: submit, resolve, dismiss."""

from django.db import transaction
from django.utils import timezone

from services.models import Provider, Report


def report_submit(
    *, provider: Provider, problem: str, details: str = "", reporter_email: str = ""
) -> Report:
    """Store a report for the staff queue; no account needed."""
    report = Report(
        provider=provider, problem=problem, details=details, reporter_email=reporter_email
    )
    report.full_clean()
    report.save()
    return report


def _close(*, report: Report, status: str, by) -> Report:
    report = Report.objects.select_for_update().get(pk=report.pk)
    report.status = status
    report.closed_at = timezone.now()
    report.closed_by = by
    report.save(update_fields=["status", "closed_at", "closed_by"])
    return report


@transaction.atomic
def report_resolve(*, report: Report, by) -> Report:
    """The listing was corrected."""
    return _close(report=report, status=Report.Status.RESOLVED, by=by)


@transaction.atomic
def report_dismiss(*, report: Report, by) -> Report:
    """Staff checked and nothing needed changing."""
    return _close(report=report, status=Report.Status.DISMISSED, by=by)
