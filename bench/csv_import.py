"""A 5,000-row CSV import, as staff make one, timed: the preview's check in the request, then
the worker's run (checked again and written in one transaction). Run by `make bench` in its
own process against the benchmark's database; every write is rolled back afterwards.

    python bench/csv_import.py  (with DATABASE_URL set) prints one JSON line.
"""

import csv
import io
import json
import os
import sys
import time
from pathlib import Path

ROWS = 5000


def _edited(sheet, queryset) -> str:
    """The sheet's export of these listings, with a change on every row."""
    from services.listing_csv.cells import csv_lines

    text = "".join(csv_lines([name for name, _help in sheet.COLUMNS], sheet.rows(queryset)))
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))[:ROWS]
    for row in rows:
        if sheet.NAME == "services":
            row["sliding_scale"] = "no" if row["sliding_scale"] == "yes" else "yes"
        else:
            row["statement"] += " Checked by staff."
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def measure() -> dict:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from services.listing_csv import listings, service_rows
    from services.listing_csv.imports import csv_import_queue, csv_import_run, file_check
    from services.models import CsvImport, Provider

    figures = {}
    with transaction.atomic():
        staff = get_user_model().objects.create_user("bench-import", is_staff=True)
        for sheet in (listings, service_rows):
            text = _edited(sheet, Provider.objects.order_by("pk")[:ROWS])
            started = time.perf_counter()
            preview = file_check(text)
            checked = time.perf_counter() - started
            assert preview.ok, preview.problems[:5]
            record = csv_import_queue(text=text, by=staff)
            started = time.perf_counter()
            csv_import_run.call(record.pk)
            ran = time.perf_counter() - started
            record = CsvImport.objects.get(pk=record.pk)
            assert record.state == "done", (record.state, record.error, record.problems[:5])
            figures[sheet.NAME] = {
                "rows": len(preview.plans),
                "changed": record.changed,
                "preview_seconds": round(checked, 1),
                "import_seconds": round(ran, 1),
            }
        transaction.set_rollback(True)
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "therapy_directory.settings")
    # Queued in the database, as the site queues it, then run here as the worker runs it.
    os.environ["DJANGO_TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    import django

    django.setup()
    print(json.dumps(measure()))
