"""Importing a file: checked in the request for the preview, then, once confirmed, checked
again and written by the background worker, with its progress kept for the page that shows it."""

import logging
from types import ModuleType

from django.db.models import F
from django.utils import timezone
from django_tasks import task

from services.listing_csv import listings, service_rows
from services.listing_csv.cells import table_read
from services.listing_csv.checking import CsvCheck
from services.listing_csv.writing import check_write
from services.models import CsvImport

logger = logging.getLogger(__name__)

SHEETS: dict[str, ModuleType] = {sheet.NAME: sheet for sheet in (listings, service_rows)}
PROBLEMS_KEPT = 100


def sheet_of(header: list[str]) -> ModuleType:
    """The services sheet is the file with a service_id column; any other is listings."""
    return service_rows if service_rows.KEY in header else listings


def file_check(text: str, progress=lambda checked, total: None) -> CsvCheck:
    """Read and check every row of a file, writing nothing; `progress(checked, total)` hears
    how far the check has gone, every hundred rows."""
    header = table_read(text.split("\n", 1)[0]).header
    sheet = sheet_of(header)
    table = table_read(text, multiline=sheet.MULTILINE)
    result = CsvCheck(sheet.NAME, problems=table.problems, formulas=table.formulas)
    required = "name" if sheet is listings else sheet.KEY
    if required not in table.header:
        result.problem(1, "", f"The first line must name the columns, with at least “{required}”.")
    unknown = [name for name in table.header if name not in dict(sheet.COLUMNS)]
    if unknown:
        result.problem(1, ", ".join(unknown), "Unknown column; the columns are listed below.")
    if result.problems:
        return result
    if not table.rows:
        result.problem(1, "", "The file has no rows under its header.")
        return result
    progress(0, len(table.rows))
    checked = sheet.check(table, lambda n: progress(n, len(table.rows)))
    checked.formulas = table.formulas
    return checked


def csv_import_queue(*, text: str, by) -> CsvImport:
    """Keep the confirmed file and ask the worker to import it; returns at once."""
    record = CsvImport.objects.create(
        created_by=by,
        sheet=sheet_of(table_read(text.split("\n", 1)[0]).header).NAME,
        text=text,
    )
    csv_import_run.enqueue(record.pk)
    return record


@task()
def csv_import_run(import_id: int) -> str:
    """The worker's task: check the file again (the directory may have changed since the
    preview), then write it all in one transaction, or nothing."""
    if not CsvImport.objects.filter(pk=import_id, state=CsvImport.State.WAITING).update(
        state=CsvImport.State.CHECKING
    ):
        return "taken by another worker"
    record = CsvImport.objects.select_related("created_by").get(pk=import_id)
    imports = CsvImport.objects.filter(pk=import_id)
    try:
        check = file_check(
            record.text, progress=lambda n, total: imports.update(rows_checked=n, rows_total=total)
        )
        if not check.ok:
            _finish(
                imports,
                CsvImport.State.REFUSED,
                rows_checked=F("rows_total"),
                problems=[[p.line, p.column, p.message] for p in check.problems[:PROBLEMS_KEPT]],
            )
            return CsvImport.State.REFUSED
        imports.update(state=CsvImport.State.WRITING, rows_checked=F("rows_total"))
        written = check_write(check, by=record.created_by)
    except Exception as error:
        logger.exception("CSV import %s failed", import_id)
        _finish(imports, CsvImport.State.FAILED, error=f"{type(error).__name__}: {error}"[:500])
        return CsvImport.State.FAILED
    _finish(imports, CsvImport.State.DONE, added=written.added, changed=written.changed)
    return CsvImport.State.DONE


def _finish(imports, state, **fields) -> None:
    imports.update(state=state, finished_at=timezone.now(), text="", **fields)
