"""Rebuild services/places/postcode_districts.csv from a GeoNames postal code file."""

import csv
from collections import Counter, defaultdict

from django.core.management.base import BaseCommand, CommandError

from services.places import postcodes

# GeoNames' postal code files are tab-separated, without a header, in these columns.
COUNTRY, CODE, PLACE, ADMIN1, ADMIN1_CODE, ADMIN2, ADMIN2_CODE = range(7)
LATITUDE, LONGITUDE = 9, 10
HEADER = ["outward", "latitude", "longitude", "places", "counties"]


class Command(BaseCommand):
    help = (
        "Rebuild the UK postcode districts file from GeoNames' GB.txt (one row per place in "
        "each outward code) or GB_full.txt (one row per full postcode), unzipped: each "
        "district's centre is the mean of its rows' coordinates."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="GeoNames' GB.txt or GB_full.txt.")
        parser.add_argument("--output", default=str(postcodes.DATA), help="Default: %(default)s")

    def handle(self, *args, source, output, **options):
        try:
            with open(source, encoding="utf-8", newline="") as file:
                districts = outward_codes(file)
        except OSError as error:
            raise CommandError(f"Cannot read {source}: {error}") from error
        if not districts:
            raise CommandError(f"{source} has no GB postcodes: is it a GeoNames postal code file?")
        with open(output, "w", encoding="utf-8", newline="") as file:
            write_districts(file, districts)
        self.stdout.write(f"Wrote {len(districts)} postcode districts to {output}.")


def outward_codes(lines) -> dict[str, dict]:
    """Each outward code's mean coordinates, and its place and county names, commonest first."""
    districts = defaultdict(
        lambda: {
            "latitude": 0.0,
            "longitude": 0.0,
            "rows": 0,
            "places": Counter(),
            "counties": Counter(),
        }
    )
    for row in csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE):
        if len(row) <= LONGITUDE or row[COUNTRY] != "GB" or not row[CODE].strip():
            continue
        try:
            latitude, longitude = float(row[LATITUDE]), float(row[LONGITUDE])
        except ValueError:
            continue  # a postcode without coordinates says nothing about where its district is
        district = districts[row[CODE].split()[0].upper()]
        district["latitude"] += latitude
        district["longitude"] += longitude
        district["rows"] += 1
        for names, name in ((district["places"], row[PLACE]), (district["counties"], row[ADMIN2])):
            # ";" separates names in the file written.
            name = " ".join(name.replace(";", " ").split())
            if name:
                names[name] += 1
    return dict(districts)


def write_districts(file, districts: dict[str, dict]) -> None:
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(HEADER)
    for outward in sorted(districts, key=postcodes.sort_key):
        district = districts[outward]
        writer.writerow(
            [
                outward,
                round(district["latitude"] / district["rows"], 4),
                round(district["longitude"] / district["rows"], 4),
                # Counter.most_common keeps first-seen order among equal counts.
                ";".join(name for name, _ in district["places"].most_common()),
                ";".join(name for name, _ in district["counties"].most_common()),
            ]
        )
