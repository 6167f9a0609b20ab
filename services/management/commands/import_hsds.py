"""Import Open Referral HSDS 3.0 files: all of them or nothing, every problem named."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from services.hsds.importing import WRITTEN, Refused, hsds_import
from services.planner_statistics import planner_statistics_update

SHOWN = 50  # problems listed in full; the rest are counted


class Command(BaseCommand):
    help = (
        "Import HSDS 3.0 files (JSON, a tabular datapackage folder or .zip) in one transaction: "
        "listings are matched by id and created or updated; nothing is written if any record is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", help="HSDS JSON files, datapackage folders or .zip files."
        )
        parser.add_argument(
            "--draft",
            action="store_true",
            help="New listings are drafts, for staff to check before publishing.",
        )
        parser.add_argument(
            "--default-support-type",
            default="",
            metavar="SLUG",
            help="The type of support of services that name none this directory knows (e.g. counselling).",
        )

    def handle(self, *args, paths, draft, default_support_type, **options):
        started = time.monotonic()
        for path in paths:
            if not Path(path).exists():
                raise CommandError(f"{path}: no such file or folder.")

        def progress(message):
            self.stderr.write(f"  {message} ({time.monotonic() - started:.1f} s)")

        try:
            report = hsds_import(
                [Path(p) for p in paths],
                draft=draft,
                default_support_type=default_support_type,
                progress=progress,
            )
        except Refused as refused:
            errors = refused.report.errors
            for problem in errors[:SHOWN]:
                self.stderr.write(f"  {problem}")
            if len(errors) > SHOWN:
                self.stderr.write(f"  ... and {len(errors) - SHOWN:,} more.")
            raise CommandError(
                f"Nothing was imported: {len(errors):,} problem{'s' if len(errors) != 1 else ''} in the files."
            ) from None
        # Once the import is committed, so the statistics are of what is there now.
        planner_statistics_update(models=WRITTEN)
        for problem in report.warnings[:SHOWN]:
            self.stderr.write(self.style.WARNING(f"  {problem}"))
        if len(report.warnings) > SHOWN:
            self.stderr.write(
                self.style.WARNING(f"  ... and {len(report.warnings) - SHOWN:,} more warnings.")
            )
        counts = [f"{n:,} {kind} added" for kind, n in report.created.items() if n] + [
            f"{n:,} {kind} updated" for kind, n in report.updated.items() if n
        ]
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported in {time.monotonic() - started:.1f} s: {', '.join(counts) or 'nothing to add'}."
            )
        )
