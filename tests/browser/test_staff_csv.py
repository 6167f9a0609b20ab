"""Staff's bulk CSV pages and the sitemap, in Chromium: a person's path through them, and screenshots.

The admin is Django's own, so axe-core is not run on it (it is not a public page); the
import's own markup is checked by eye in the screenshots at 1280 px.
"""

import pytest
from playwright.sync_api import expect

from services.models import Provider

pytestmark = pytest.mark.browser


@pytest.fixture
def signed_in(directory, staff_page):
    page, _staff = staff_page("csv-staff", next="/admin/services/provider/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("provider")
    return page


def test_export_edit_and_import_with_a_preview(signed_in, screenshot, tmp_path):
    page = signed_in
    page.get_by_role("link", name="Published").first.click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export these as CSV").click()
    exported = tmp_path / "listings.csv"
    download.value.save_as(exported)
    lines = exported.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("id,name,slug,kind")
    assert len(lines) - 1 == Provider.objects.published().count()

    # Rename the first listing and add one, as staff would in a spreadsheet.
    header, first = lines[0], lines[1]
    cells = first.split(",")
    renamed = ",".join([cells[0], "Renamed In A Spreadsheet", *cells[2:]])
    added = "," + "Maple Tree Counselling" + "," * (header.count(",") - 1)
    edited = tmp_path / "edited.csv"
    edited.write_text("\n".join([header, renamed, added, *lines[2:6]]) + "\n", encoding="utf-8")

    page.goto("/admin/services/provider/")
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file:").set_input_files(str(edited))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("Every row is valid. Nothing has been written yet")).to_be_visible()
    expect(page.get_by_role("cell", name="Add, as a draft")).to_be_visible()
    screenshot(page, "admin-import-preview")
    page.get_by_role("button", name="Import 2 rows").click()
    # The worker runs the import (at once, in the tests); its page shows how it went.
    expect(page.get_by_role("status")).to_have_text(
        "Imported: 1 listing added (as a draft), 1 changed."
    )
    screenshot(page, "admin-import-done")
    assert Provider.objects.filter(name="Renamed In A Spreadsheet").exists()
    assert Provider.objects.get(name="Maple Tree Counselling").status == Provider.Status.DRAFT


def test_a_file_with_problems_lists_them_and_writes_nothing(signed_in, screenshot, tmp_path):
    page = signed_in
    broken = tmp_path / "broken.csv"
    broken.write_text(
        "id,name,email,practising_since,languages,accepting_new_clients\n"
        ",Rowan Practice,rowan@example.org,2010,english,yes\n"
        ",,nobody@example.org,1890,klingon,perhaps\n"
        "not-an-id,Ghost,,,,\n",
        encoding="utf-8",
    )
    page.goto("/admin/services/provider/import-csv/")
    page.get_by_label("CSV file:").set_input_files(str(broken))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_text("Nothing was imported.")).to_be_visible()
    expect(page.get_by_text("Row 3, languages: Not in the list: klingon.")).to_be_visible()
    expect(page.get_by_role("button", name="Import", exact=False)).to_have_count(0)
    screenshot(page, "admin-import-errors")
    assert not Provider.objects.filter(name="Rowan Practice").exists()


def test_the_sitemap_and_robots_txt(directory, new_page):
    # Fetched as a crawler fetches them: Chromium's own XML viewer styles the page
    # inline, which the site's Content-Security-Policy rightly refuses.
    page = new_page(width=1280)
    index = page.request.get("/sitemap.xml")
    assert index.status == 200
    assert "sitemap-providers.xml" in index.text()
    providers = page.request.get("/sitemap-providers.xml")
    assert providers.status == 200
    assert providers.text().count("<loc>") == Provider.objects.published().count()
    robots = page.request.get("/robots.txt")
    assert "Sitemap: " in robots.text()
