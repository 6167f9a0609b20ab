"""Bulk CSV in the admin: the list exported as filtered (listings, or their services),
imports checked row by row and previewed, then run by the background worker."""

import base64
import csv
import io
import json

import pytest
import reversion
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from reversion.models import Version

from services.listing_csv.imports import file_check
from services.listing_csv.listings import COLUMNS
from services.models import CsvImport, Provider, Service

pytestmark = pytest.mark.django_db

EXPORT = reverse("admin:services_provider_export_csv")
EXPORT_SERVICES = reverse("admin:services_provider_export_services_csv")
IMPORT = reverse("admin:services_provider_import_csv")


def exported(client, query="", url=EXPORT) -> list[dict]:
    response = client.get(url + query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment; filename=" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def upload(client, text: str, name="listings.csv"):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


def confirm(client, preview):
    """Confirm a preview as staff do; the worker (at once, in the tests) runs the import."""
    html = preview.content.decode()
    content = html.split('name="content" value="', 1)[1].split('"', 1)[0]
    return client.post(IMPORT, {"confirm": "1", "content": content}, follow=True)


def as_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture
def listed(make_listing):
    make_listing("Alder Counselling", languages=["english", "polish"], phone="0113 496 0100")
    make_listing("Birch Therapy", status=Provider.Status.DRAFT)
    make_listing(
        "Cedar Groups",
        services=[{"type": "support-groups", "group_weekday": 2, "group_frequency": "weekly"}],
    )


# --------------------------------------------------------------------------- export


def test_export_is_the_list_as_filtered_and_searched(staff_client, listed):
    rows = exported(staff_client)
    assert [r["name"] for r in rows] == ["Alder Counselling", "Birch Therapy", "Cedar Groups"]
    assert list(rows[0]) == [name for name, _ in COLUMNS]
    alder = rows[0]
    assert alder["languages"] == "english;polish" and alder["phone"] == "0113 496 0100"
    assert alder["id"] == str(Provider.objects.get(name="Alder Counselling").uuid)
    assert [r["name"] for r in exported(staff_client, "?status__exact=published")] == [
        "Alder Counselling",
        "Cedar Groups",
    ]
    assert [r["name"] for r in exported(staff_client, "?support_type=support-groups")] == [
        "Cedar Groups"
    ]
    assert [r["name"] for r in exported(staff_client, "?q=birch")] == ["Birch Therapy"]


def test_the_list_links_to_export_with_its_filters(staff_client, listed):
    html = staff_client.get(
        reverse("admin:services_provider_changelist") + "?status__exact=draft"
    ).content.decode()
    assert f'href="{EXPORT}?status__exact=draft">Export these as CSV</a>' in html
    assert f'href="{IMPORT}">Import CSV</a>' in html


def test_export_queries_do_not_grow_with_the_list(
    staff_client, make_listing, django_assert_max_num_queries
):
    for n in range(30):
        make_listing(f"Listing {n:02}", languages=["english"])
    with django_assert_max_num_queries(10):
        assert len(exported(staff_client)) == 30


def test_export_needs_staff(client, listed):
    assert client.get(EXPORT).status_code == 302  # to the admin's sign-in


# --------------------------------------------------------------------------- import


def test_an_export_edited_and_imported_changes_the_listings_after_a_preview(staff_client, listed):
    rows = exported(staff_client)
    rows[0]["name"] = "Alder Counselling Leeds"
    rows[0]["languages"] = "english"
    rows.append(
        {
            **{name: "" for name, _ in COLUMNS},
            "name": "Dogwood Practice",
            "email": "hi@dogwood.example.org",
        }
    )
    text = as_csv(rows)

    preview = upload(staff_client, text)
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Every row is valid. Nothing has been written yet" in html
    assert (
        "<dt>name</dt><dd><del>Alder Counselling</del> → <ins>Alder Counselling Leeds</ins></dd>"
        in html
    )
    assert "<dt>languages</dt><dd><del>english;polish</del> → <ins>english</ins></dd>" in html
    assert "Add, as a draft" in html
    assert "<strong>2</strong> of 4 rows change something (2 are the same as now" in html
    assert not Provider.objects.filter(
        name="Dogwood Practice"
    ).exists()  # the preview wrote nothing

    done = confirm(staff_client, preview)
    record = CsvImport.objects.get()
    assert done.redirect_chain == [
        (reverse("admin:services_provider_import_progress", args=[record.pk]), 302)
    ]
    assert "Imported: 1 listing added (as a draft), 1 changed." in done.content.decode()
    assert 'http-equiv="refresh"' not in done.content.decode()  # finished: no more looking
    assert (record.state, record.rows_total, record.rows_checked, record.text) == ("done", 4, 4, "")
    alder = Provider.objects.get(name="Alder Counselling Leeds")
    assert list(alder.languages.values_list("slug", flat=True)) == ["english"]
    assert "leeds" in alder.search_document.lower()
    new = Provider.objects.get(name="Dogwood Practice")
    assert (new.status, new.slug) == (Provider.Status.DRAFT, "dogwood-practice")
    assert Provider.objects.count() == 4
    history = staff_client.get(
        reverse("admin:services_provider_history", args=[alder.pk])
    ).content.decode()
    assert (
        "Imported from a CSV file. Changed: name Alder Counselling → Alder Counselling Leeds,"
        " languages english;polish → english" in history
    )


def test_an_imported_version_can_be_reverted(staff_client, listed):
    rows = exported(staff_client)
    rows[0]["statement"] = "Rewritten by the import."
    confirm(staff_client, upload(staff_client, as_csv(rows)))
    alder = Provider.objects.get(name="Alder Counselling")
    assert alder.statement == "Rewritten by the import."
    imported = Version.objects.get_for_object(alder)[0]
    assert imported.revision.comment == (
        "Imported from a CSV file. Changed: statement (empty) → Rewritten by the import."
    )
    assert imported.revision.user.username == "staff"
    # The version holds exactly what reversion itself saves for an edit in the admin.
    with reversion.create_revision():
        reversion.add_to_revision(alder)
    by_reversion = Version.objects.get_for_object(alder)[0].revision
    assert _contents(imported.revision) == _contents(by_reversion)
    assert {v.content_type.model for v in imported.revision.version_set.all()} == {
        "provider",
        "service",
    }
    Provider.objects.filter(pk=alder.pk).update(statement="Changed since.")
    imported.revision.revert(delete=True)
    alder.refresh_from_db()
    assert alder.statement == "Rewritten by the import."
    assert Service.objects.filter(provider=alder).count() == 1


def _contents(revision) -> dict:
    # As data: PostgreSQL's jsonb gives a card's keys back in its own order.
    return {
        (v.content_type_id, v.object_id, v.format, v.object_repr): json.loads(v.serialized_data)
        for v in revision.version_set.all()
    }


def test_row_errors_are_listed_and_nothing_is_written(staff_client, listed):
    alder = Provider.objects.get(name="Alder Counselling")
    text = (
        "id,name,email,practising_since,languages,accepting_new_clients,website\n"
        f"{alder.uuid},Alder Renamed,,,english,yes,\n"
        ",,someone@example.org,1890,klingon,perhaps,not a site\n"
        "00000000-0000-0000-0000-000000000000,Ghost,,,,,\n"
        f"{alder.uuid},Twice,,,,,\n"
    )
    response = upload(staff_client, text)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was imported. Correct" in html
    for expected in [
        "Row 3, languages: Not in the list: klingon.",
        "Row 3, accepting_new_clients: Write yes or no.",
        "Row 3, website: Enter a web address",
        "Row 3, name: This field cannot be blank.",
        "Row 3, practising_since: Ensure this value is greater than or equal to 1940.",
        "Row 4, id: There is no listing with this id",
        "Row 5, id: This listing is in the file twice.",
    ]:
        assert expected in html, expected
    assert 'name="confirm"' not in html
    alder.refresh_from_db()
    assert alder.name == "Alder Counselling"  # the valid row 2 was not written either


def test_several_new_listings_in_one_file(listed):
    check = file_check(
        "name,email\nOak One,a@example.org\nOak Two,b@example.org\nOak One,c@example.org\n"
    )
    assert check.ok, check.problems
    assert [p.item.slug for p in check.plans] == ["oak-one", "oak-two", "oak-one-2"]


def test_a_published_listing_keeps_a_way_to_be_contacted(listed):
    alder = Provider.objects.get(name="Alder Counselling")
    check = file_check(f"id,name,phone,email,website\n{alder.uuid},Alder,,,\n")
    assert [(p.line, p.column) for p in check.problems] == [(2, "phone")]


def test_the_worker_checks_the_file_again(staff_client, listed):
    packed = base64.b64encode(b"name,kind\nSneaky,robot\n").decode()
    response = staff_client.post(IMPORT, {"confirm": "1", "content": packed}, follow=True)
    html = response.content.decode()
    assert (
        "Nothing was imported: when the worker checked the file again, 1 row has problems" in html
    )
    assert "Row 2, kind: Write individual or organisation." in html
    assert CsvImport.objects.get().state == "refused"
    assert not Provider.objects.filter(name="Sneaky").exists()


def test_a_confirmation_without_its_file_is_refused(staff_client):
    response = staff_client.post(IMPORT, {"confirm": "1", "content": "not base64!"})
    assert response.status_code == 400
    assert "The file did not come back with the confirmation" in response.content.decode()
    assert not CsvImport.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("email\nx@example.org\n", "The first line must name the columns"),
        ("name,colour\nA,blue\n", "colour: Unknown column"),
        ("name\n", "The file has no rows under its header."),
    ],
)
def test_files_that_are_not_a_list_of_listings(staff_client, text, message):
    assert message in upload(staff_client, text).content.decode()


def test_a_file_that_is_not_utf8_is_refused(staff_client):
    response = staff_client.post(
        IMPORT, {"file": SimpleUploadedFile("x.csv", "name\nZoë\n".encode("latin-1"), "text/csv")}
    )
    assert "The file is not UTF-8 text" in response.content.decode()


def test_import_needs_add_and_change_permission(client, django_user_model, listed):
    viewer = django_user_model.objects.create_user(
        "viewer", password="a-long-test-password", is_staff=True
    )
    record = CsvImport.objects.create(sheet="listings", text="name\nA\n")
    client.force_login(viewer)
    assert client.get(IMPORT).status_code == 403
    progress = reverse("admin:services_provider_import_progress", args=[record.pk])
    assert client.get(progress).status_code == 403


def test_the_import_page_lists_the_columns(staff_client):
    html = staff_client.get(IMPORT).content.decode()
    assert "<h1>Import listings from a CSV file</h1>" in html
    for name, _help in COLUMNS:
        assert f"<dt>{name}</dt>" in html
    assert "Columns of the services file" in html and "<dt>fee_max</dt>" in html
