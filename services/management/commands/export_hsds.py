"""Export the listings as Open Referral HSDS 3.0: JSON, or the tabular CSV datapackage."""

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from services.hsds.exporting import hsds_export_json, hsds_export_tabular


class Command(BaseCommand):
    help = (
        "Export the published listings (or every listing, with --all) as HSDS 3.0: one JSON "
        "page of fully nested organizations, or a tabular datapackage (a folder or a .zip)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "output",
            help="A .json file, or a folder or .zip for --format tabular; - for standard output (JSON).",
        )
        parser.add_argument("--format", choices=["json", "tabular"], default="json")
        parser.add_argument(
            "--all",
            action="store_true",
            help="Drafts (status inactive) and archived listings (defunct) too.",
        )

    def handle(self, *args, output, format, all, **options):
        started = time.monotonic()

        def progress(message):
            self.stderr.write(f"  {message} ({time.monotonic() - started:.1f} s)")

        if format == "tabular":
            if output == "-":
                raise CommandError("A tabular export needs a folder or a .zip file to write to.")
            count = hsds_export_tabular(Path(output), include_unpublished=all, progress=progress)
        elif output == "-":
            count = hsds_export_json(sys.stdout, include_unpublished=all, progress=progress)
        else:
            with open(output, "w", encoding="utf-8") as stream:
                count = hsds_export_json(stream, include_unpublished=all, progress=progress)
        self.stderr.write(
            self.style.SUCCESS(
                f"Exported {count:,} organizations to {output} in {time.monotonic() - started:.1f} s."
            )
        )
