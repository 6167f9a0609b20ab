"""Saving listings, the shortlist and the comparison, in Chromium: with JavaScript (the page
changes in place) and without it (the same forms, posted)."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from services.models import Provider

pytestmark = pytest.mark.browser

RESULTS = "/find/?q=grief&near=Leeds&language=spanish"


def another_listing(directory) -> Provider:
    """A seeded listing, not the story's."""
    return Provider.objects.published().exclude(pk=directory.story.pk).order_by("name").first()


def card(page, name):
    return page.locator("ol.cards > li").filter(has=page.get_by_role("link", name=name, exact=True))


def save_button(page, name):
    return page.get_by_role("button", name=re.compile(rf"^Saved? {re.escape(name)}$"))


def test_saving_and_comparing_with_javascript(directory, new_page):
    story, other = directory.story, another_listing(directory)
    page = new_page()
    page.goto(RESULTS)
    status = page.locator("[data-shortlist-status]")
    expect(status).to_have_text("")
    expect(page.get_by_role("link", name="See your shortlist and compare")).to_be_hidden()

    button = save_button(page, story.name)
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_text(f"Saved {story.name}")
    expect(status).to_have_text(f"Saved {story.name} to your shortlist. 1 saved in all.")
    expect(page).to_have_url(
        re.compile(r"/find/\?q=grief&near=Leeds&language=spanish$")
    )  # no reload

    # The other one from its profile, and back.
    page.goto(other.get_absolute_url())
    save_button(page, other.name).click()
    expect(page.get_by_role("status")).to_have_text(
        f"Saved {other.name} to your shortlist. 2 saved in all."
    )
    page.go_back()
    page.reload()
    expect(save_button(page, story.name)).to_have_attribute("aria-pressed", "true")
    expect(status).to_have_text("2 listings on your shortlist.")

    page.get_by_role("link", name="See your shortlist and compare").click()
    page.wait_for_url("**/shortlist/?*")
    expect(page.get_by_role("heading", level=2)).to_have_text([story.name, other.name])
    page.get_by_role("button", name="Compare these").click()
    page.wait_for_url("**/compare/?*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["p"] == [story.slug, other.slug]
    assert query["near"] == ["Leeds"]
    table = page.get_by_role("table", name=re.compile("^2 listings on the criteria"))
    expect(table.get_by_role("columnheader")).to_have_count(3)
    expect(table.get_by_role("rowheader", name=re.compile("^Distance from Leeds"))).to_be_visible()
    expect(table).to_contain_text("£40–£50 a session")

    # Taking one off the shortlist, in place: the list, the count, the comparison button.
    page.go_back()
    page.get_by_role("button", name=f"Remove {story.name}").click()
    expect(page.get_by_role("heading", level=2)).to_have_text([other.name])
    expect(page.get_by_role("status")).to_have_text(
        f"Removed {story.name} from your shortlist. 1 saved in all."
    )
    expect(page.get_by_role("button", name="Compare these")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    page.get_by_role("button", name=f"Remove {other.name}").click()
    expect(page.get_by_text("Nothing is saved yet.")).to_be_visible()
    page.reload()
    expect(page.get_by_text("Nothing is saved yet.")).to_be_visible()


def test_saving_and_removing_without_javascript(directory, new_page):
    story = directory.story
    page = new_page(width=360, java_script_enabled=False)
    page.goto(RESULTS)
    save_button(page, story.name).click()
    # The form was posted, and the browser came back to the card.
    page.wait_for_url(
        re.compile(rf"/find/\?q=grief&near=Leeds&language=spanish#provider-{story.pk}$")
    )
    expect(save_button(page, story.name)).to_have_attribute("aria-pressed", "true")
    expect(card(page, story.name).get_by_role("button")).to_have_text(f"Saved {story.name}")
    expect(page.locator("[data-shortlist-status]")).to_have_text("1 listing on your shortlist.")

    page.get_by_role("link", name="Your shortlist", exact=True).click()
    expect(page.get_by_role("heading", level=2)).to_have_text([story.name])
    expect(page.get_by_text("Save at least one more listing")).to_be_visible()
    page.get_by_role("button", name=f"Remove {story.name}").click()
    page.wait_for_url(re.compile(r"/shortlist/(#.*)?$"))
    expect(page.get_by_text("Nothing is saved yet.")).to_be_visible()

    # Saved on the profile, taken off again from the results.
    page.goto(story.get_absolute_url())
    save_button(page, story.name).click()
    expect(save_button(page, story.name)).to_have_attribute("aria-pressed", "true")
    page.goto(RESULTS)
    save_button(page, story.name).click()
    page.wait_for_url(re.compile(rf"#provider-{story.pk}$"))
    expect(save_button(page, story.name)).to_have_attribute("aria-pressed", "false")
    expect(page.locator("[data-shortlist-status]")).to_have_text("")


def test_the_comparison_on_a_phone_scrolls_with_the_criteria_kept_in_view(directory, new_page):
    story, other = directory.story, another_listing(directory)
    page = new_page(width=360)
    page.goto(f"/compare/?p={story.slug}&p={other.slug}&near=Leeds&concern=grief")
    region = page.get_by_role("region", name=re.compile("^2 listings"))
    criterion = page.get_by_role("rowheader", name=re.compile("^Fee a session"))
    before = criterion.bounding_box()["x"]
    region.evaluate("element => { element.scrollLeft = 400; }")
    assert criterion.bounding_box()["x"] == before  # the first column stays
    # Nothing but the table scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
