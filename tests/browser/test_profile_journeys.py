"""A profile in Chromium: what a phone shows on its first screen, the service a result card
led with, and the Save toggle keeping keyboard focus on the button it changed."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

RESULTS = "/find/?q=grief&near=Leeds&language=spanish"


def save_button(page, name):
    return page.get_by_role("button", name=re.compile(rf"^Saved? {re.escape(name)}$"))


def press_and_keep_focus(page, button, key):
    """Press the focused Save toggle with the keyboard: it flips and keeps the focus."""
    was = button.get_attribute("aria-pressed")
    page.keyboard.press(key)
    expect(button).to_have_attribute("aria-pressed", "false" if was == "true" else "true")
    expect(page.get_by_role("status")).not_to_have_text("")
    expect(button).to_be_focused()


def test_save_on_the_results_keeps_focus_on_the_button(directory, new_page):
    story = directory.story
    page = new_page()
    page.goto(RESULTS)
    button = save_button(page, story.name)
    button.focus()
    press_and_keep_focus(page, button, "Enter")
    expect(button).to_have_text(f"Saved {story.name}")
    press_and_keep_focus(page, button, "Space")
    expect(button).to_have_text(f"Save {story.name}")
    # Still where it was: Tab goes on from the button, not from the top of the page.
    page.keyboard.press("Shift+Tab")
    expect(button).not_to_be_focused()
    page.keyboard.press("Tab")
    expect(button).to_be_focused()


def test_save_on_a_profile_keeps_focus_while_the_answer_is_slow(directory, new_page):
    story = directory.story
    page = new_page()
    # A slow network: the button must not lose focus while the POST is on its way.
    page.route(
        "**/shortlist/",
        lambda route: (
            (page.wait_for_timeout(300), route.continue_())
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    page.goto(story.get_absolute_url())
    button = save_button(page, story.name)
    button.focus()
    page.keyboard.press("Enter")
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_be_focused()
    expect(page.get_by_role("status")).to_have_text(
        f"Saved {story.name} to your shortlist. 1 saved in all."
    )


def test_a_phone_shows_the_fee_the_availability_and_the_contact_first(directory, new_page):
    story = directory.story
    page = new_page(width=360)
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(story.get_absolute_url())
    header = page.locator("main header.profile-header")
    for thing in (
        page.get_by_role("heading", level=1, name=story.name),
        header.get_by_text("Counselling", exact=True),
        header.get_by_text("£40–£50 a session"),
        header.get_by_text("In person in Leeds · Online (video)"),
        header.get_by_text("Taking new clients"),
        page.get_by_role("link", name=f"Send a message to {story.name}"),
        page.get_by_role("link", name="Call 0113 496 0123"),
    ):
        expect(thing).to_be_in_viewport(ratio=1)
    page.get_by_role("link", name=f"Send a message to {story.name}").click()
    page.wait_for_url(f"**/providers/{story.slug}/contact/")


def test_the_service_a_card_led_with_comes_first_and_is_marked(directory, new_page):
    story = directory.story
    service = story.services.get()
    page = new_page()
    page.goto(f"{story.get_absolute_url()}?service={service.uuid}")
    first = page.locator("main .service").first
    expect(first).to_have_attribute("aria-current", "true")
    expect(first).to_contain_text("The service that matched your search")
    expect(first).to_contain_text("Counselling")
    page.goto(f"{story.get_absolute_url()}?service=not-a-uuid")
    expect(page.locator("main [aria-current]")).to_have_count(0)
    expect(page.get_by_text("The service that matched your search")).to_have_count(0)
