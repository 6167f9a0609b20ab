"""Screenshots at 360 and 1280 px: artifacts/screenshots/ on every run, docs/screenshots/ via `make screenshots`."""

import pytest
from playwright.sync_api import expect

from services.models import Provider

pytestmark = pytest.mark.browser

MAX_BYTES = 400 * 1024


@pytest.mark.parametrize("width", [360, 1280])
def test_screenshots(directory, new_page, screenshot, width):
    page = new_page(width=width)
    story = directory.story
    others = list(Provider.objects.published().exclude(pk=story.pk).order_by("name")[:2])
    for listing in (story, *others):
        page.goto(listing.get_absolute_url())
        page.get_by_role("button", name=f"Save {listing.name}").click()
        expect(page.get_by_role("status")).to_contain_text("Saved")
    slugs = "&".join(f"p={listing.slug}" for listing in (story, *others))
    pages = {
        "home": "/",
        "results": "/find/?q=grief&near=Leeds",
        "profile": directory.story.get_absolute_url(),
        "guide": "/guide/",
        "contact": directory.story.get_absolute_url() + "contact/",
        "contact-sent": directory.story.get_absolute_url() + "contact/sent/",
        "recommend": directory.story.get_absolute_url() + "recommend/",
        "report": directory.story.get_absolute_url() + "report/",
        "shortlist": "/shortlist/?near=Leeds&concern=grief",
        "compare": f"/compare/?{slugs}&near=Leeds&concern=grief",
    }
    for name, url in pages.items():
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        path = screenshot(page, name)
        assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size:,} bytes"
