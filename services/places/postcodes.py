"""UK postcode districts ("LS6", "SW1A") and where they are, from postcode_districts.csv.

The file is built by `manage.py build_postcode_districts` from GeoNames' postal codes
(see README.md beside it). It is read once per process, the first time it is needed.
"""

import csv
import functools
import re
from pathlib import Path
from typing import NamedTuple

DATA = Path(__file__).with_name("postcode_districts.csv")
# The area letters, the district number and the letter some London districts add ("SW1A").
OUTWARD = re.compile(r"([A-Z]{1,2})([0-9]{1,2})([A-Z]?)")


class District(NamedTuple):
    outward: str
    latitude: float
    longitude: float
    # Towns, villages and neighbourhoods in the district, and the counties it is in.
    places: tuple[str, ...]
    counties: tuple[str, ...]


def district(outward: str) -> District | None:
    return _districts().get(outward.upper())


def districts_named(key: str) -> list[District]:
    """Districts that have a place of this name (a geo.place_key), in postcode order."""
    return _names().get(key, [])


def districts_in_county(key: str) -> list[District]:
    """Districts in the county of this name (a geo.place_key)."""
    return _counties().get(key, [])


def districts_like(outward: str, limit: int = 5) -> list[District]:
    """Districts someone who typed an unknown one may have meant: the same area letters,
    the closest in spelling ("LS99": "LS9"), then the nearest in number ("LS29")."""
    typed = OUTWARD.fullmatch(outward.upper())
    if not typed:
        return []
    letters, number, suffix = typed.groups()
    candidates = []
    for known in _districts().values():
        parts = OUTWARD.fullmatch(known.outward)
        if not parts or parts[1] != letters:
            continue
        # Characters of the typed number and suffix that are missing or wrong.
        typo = _edits(number + suffix, parts[2] + parts[3])
        candidates.append((typo, abs(int(parts[2]) - int(number)), known))
    candidates.sort(key=lambda candidate: candidate[:2])
    return [known for *_, known in candidates[:limit]]


def _edits(a: str, b: str) -> int:
    """Levenshtein distance between two short strings."""
    row = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, char_b in enumerate(b, 1):
            previous, row[j] = (
                row[j],
                min(row[j] + 1, row[j - 1] + 1, previous + (char_a != char_b)),
            )
    return row[-1]


def sort_key(outward: str) -> tuple:
    """Postcode order: LS1, LS2 ... LS10, not LS1, LS10, LS2."""
    parts = OUTWARD.fullmatch(outward)
    return (parts[1], int(parts[2]), parts[3]) if parts else (outward, 0, "")


@functools.cache
def _districts() -> dict[str, District]:
    with DATA.open(encoding="utf-8", newline="") as file:
        return {
            row["outward"]: District(
                row["outward"],
                float(row["latitude"]),
                float(row["longitude"]),
                _split(row["places"]),
                _split(row["counties"]),
            )
            for row in csv.DictReader(file)
        }


@functools.cache
def _names() -> dict[str, list[District]]:
    return _index(lambda district: district.places)


@functools.cache
def _counties() -> dict[str, list[District]]:
    return _index(lambda district: district.counties)


def _index(names_of) -> dict[str, list[District]]:
    # Imported here: geo imports this module, and its place_key is how names are looked up.
    from services.geo import place_key

    index: dict[str, list[District]] = {}
    for known in _districts().values():
        for key in {place_key(name) for name in names_of(known)}:
            index.setdefault(key, []).append(known)
    return index


def _split(names: str) -> tuple[str, ...]:
    return tuple(name for name in names.split(";") if name)
