"""The UK postcode districts file: how it is built from GeoNames, and what it holds."""

import csv

import pytest
from django.core.management import CommandError, call_command

from services.places import postcodes

# GeoNames' postal code format: a GB.txt row per place in an outward code, a GB_full.txt
# row per full postcode; tab-separated, no header.
SAMPLE = "\n".join(
    "\t".join(row)
    for row in [
        [
            "GB",
            "LS6",
            "Leeds",
            "England",
            "ENG",
            "West Yorkshire",
            "",
            "",
            "",
            "53.82",
            "-1.57",
            "4",
        ],
        [
            "GB",
            "LS10",
            "Hunslet",
            "England",
            "ENG",
            "West Yorkshire",
            "",
            "",
            "",
            "53.78",
            "-1.53",
            "4",
        ],
        [
            "GB",
            "LS10",
            "Belle Isle",
            "England",
            "ENG",
            "West Yorkshire",
            "",
            "",
            "",
            "53.76",
            "-1.53",
            "3",
        ],
        [
            "GB",
            "LS2",
            "Leeds",
            "England",
            "ENG",
            "West Yorkshire",
            "",
            "",
            "",
            "53.80",
            "-1.55",
            "4",
        ],
        [
            "GB",
            "SW1A 1AA",
            "London",
            "England",
            "ENG",
            "Greater London",
            "",
            "",
            "",
            "51.50101",
            "-0.14159",
            "6",
        ],
        [
            "GB",
            "SW1A 2AA",
            "London",
            "England",
            "ENG",
            "Greater London",
            "",
            "",
            "",
            "51.50354",
            "-0.12768",
            "6",
        ],
        [
            "GB",
            "EH1 1AA",
            "Edinburgh",
            "Scotland",
            "SCT",
            "City of; Edinburgh",
            "",
            "",
            "",
            "55.95",
            "-3.19",
            "6",
        ],
        ["GB", "BT7 1AA", "Belfast", "Northern Ireland", "NIR", "", "", "", "", "", "", ""],
        ["IE", "D02", "Dublin", "Leinster", "L", "", "", "", "", "53.34", "-6.26", "4"],
    ]
)


def build(tmp_path, source_text):
    source, output = tmp_path / "GB.txt", tmp_path / "districts.csv"
    source.write_text(source_text + "\n", encoding="utf-8")
    call_command("build_postcode_districts", str(source), output=str(output))
    with output.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def test_the_command_writes_each_outward_code_at_the_mean_of_its_rows(tmp_path):
    rows = build(tmp_path, SAMPLE)

    # In postcode order; Ireland's codes and a postcode without coordinates are left out.
    assert [row["outward"] for row in rows] == ["EH1", "LS2", "LS6", "LS10", "SW1A"]
    by_outward = {row["outward"]: row for row in rows}
    assert by_outward["LS10"] == {
        "outward": "LS10",
        "latitude": "53.77",
        "longitude": "-1.53",
        "places": "Hunslet;Belle Isle",
        "counties": "West Yorkshire",
    }
    # Full postcodes are averaged into their district, rounded to 4 decimals (about 10 m).
    assert (by_outward["SW1A"]["latitude"], by_outward["SW1A"]["longitude"]) == (
        "51.5023",
        "-0.1346",
    )
    assert by_outward["SW1A"]["places"] == "London"
    # ";" separates names in the file, so a name cannot hold one.
    assert by_outward["EH1"]["counties"] == "City of Edinburgh"


def test_the_command_refuses_a_file_without_uk_postcodes(tmp_path):
    with pytest.raises(CommandError, match="no GB postcodes"):
        build(tmp_path, "IE\tD02\tDublin\tLeinster\tL\t\t\t\t\t53.34\t-6.26\t4")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("build_postcode_districts", str(tmp_path / "missing.txt"))


def test_the_shipped_file_holds_every_uk_district():
    with postcodes.DATA.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert 2900 <= len(rows) <= 3100
    assert len({row["outward"] for row in rows}) == len(rows)
    assert all(postcodes.OUTWARD.fullmatch(row["outward"]) for row in rows)


@pytest.mark.parametrize(
    ("outward", "latitude", "longitude"),
    [("LS6", 53.82, -1.58), ("SW1A", 51.50, -0.14), ("EH1", 55.95, -3.19), ("BT7", 54.58, -5.92)],
)
def test_the_shipped_districts_are_where_they_should_be(outward, latitude, longitude):
    district = postcodes.district(outward)
    assert district.latitude == pytest.approx(latitude, abs=0.015)
    assert district.longitude == pytest.approx(longitude, abs=0.015)


def test_a_district_is_looked_up_in_any_case_and_an_unknown_one_is_none():
    assert postcodes.district("ls6").places == ("Leeds",)
    assert postcodes.district("LS6").counties == ("West Yorkshire",)
    assert postcodes.district("LS40") is None
    assert postcodes.district("") is None


def test_districts_like_an_unknown_one_share_its_area_letters():
    assert [district.outward for district in postcodes.districts_like("LS40")] == [
        "LS20",
        "LS10",
        "LS4",
        "LS29",
        "LS28",
    ]
    # GeoNames keeps SW1 beside the SW1A to SW1Y that replaced it.
    assert [district.outward for district in postcodes.districts_like("SW1Z", 3)] == [
        "SW1",
        "SW1A",
        "SW1E",
    ]
    assert postcodes.districts_like("QQ1") == []
    assert postcodes.districts_like("not a postcode") == []
