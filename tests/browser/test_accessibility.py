"""axe-core finds nothing at WCAG 2.2 A and AA on the public pages, on a phone and a laptop."""

import pytest
from playwright.sync_api import expect

from services.models import Provider

pytestmark = pytest.mark.browser

PAGES = {
    "home": "/",
    "results": "/find/?q=grief&near=Leeds",
    "no results": "/find/?type=play-therapy&language=welsh&near=Truro&radius=2",
    "a form error": "/find/?q=grief&max_fee=lots",
    "profile": None,  # the story's listing
    "support type": "/support/counselling/",
    "concern": "/concerns/grief/",
    "guide": "/guide/",
    "guide, last step": "/guide/?step=4&concern=grief&type=counselling&near=Leeds",
    "contact form": "contact/",  # these are under the story's profile
    "contact form with errors": "contact/",
    "message sent": "contact/sent/",
    "recommendation form": "recommend/",
    "recommendation sent": "recommend/thanks/",
    "report form": "report/",
    "report sent": "report/thanks/",
    "shortlist": "/shortlist/",  # with the story and another listing saved
    "empty shortlist": "/shortlist/",
    "comparison": "/compare/",  # the story and another, from Leeds, for grief
    "comparison of too few": "/compare/?p=nobody",
    "page not found": "/no-such-page/",
    "about": "/about/",
    "privacy notice": "/privacy/",
    "accessibility statement": "/accessibility/",
    "contact us": "/contact/",
    "provider sign-in": "/my-listing/",
}
RELATIVE = {name for name, url in PAGES.items() if url and not url.startswith("/")}


@pytest.mark.parametrize("width", [360, 1280])
@pytest.mark.parametrize("name", PAGES)
def test_no_accessibility_violations(directory, new_page, assert_no_axe_violations, name, width):
    page = new_page(width=width)
    profile = directory.story.get_absolute_url()
    if name in ("shortlist", "comparison"):
        other = Provider.objects.published().exclude(pk=directory.story.pk).first()
    if name == "shortlist":
        for listing in (directory.story, other):
            page.goto(listing.get_absolute_url())
            page.get_by_role("button", name=f"Save {listing.name}").click()
            expect(page.get_by_role("status")).to_contain_text("Saved")
    url = profile + PAGES[name] if name in RELATIVE else PAGES[name] or profile
    if name == "comparison":
        url += f"?p={directory.story.slug}&p={other.slug}&near=Leeds&concern=grief"
    page.goto(url)
    if name == "contact form with errors":
        page.get_by_label("Your name").fill("Sam")
        page.get_by_role("button", name="Send message").click()
        expect(page.get_by_role("alert")).to_contain_text("Please check the form")
    if name == "no results":
        expect(page.locator("#results-title")).to_have_text(
            "0 play therapists within 2 km of Truro"
        )
    if name == "a form error":
        expect(page.get_by_role("alert")).to_contain_text("Part of your search could not be used")
    # Readable on a small phone: nothing wider than the screen.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} at {width} px is {overflow} px wider than the screen"
    assert_no_axe_violations(page, f"{name} at {width} px")
