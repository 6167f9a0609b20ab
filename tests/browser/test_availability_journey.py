"""Availability that lapses unless confirmed, in Chromium. A person on a phone sees a listing
whose provider did not confirm: it says so, and it is not among those taking new clients.
The provider, reminded by email, confirms with one click from their phone; the listing says
so again within seconds. Staff see the counts by state on the admin's first page."""

import datetime
import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from services.models import Provider

pytestmark = pytest.mark.browser

URL = re.compile(r"https?://\S+")
TAKING = "/find/?concern=grief&near=Leeds&accepting=1"


def listed_within(page, name: str, listed: bool, seconds: float = 2) -> None:
    """The results taking new clients list `name` (or not) within `seconds`: each worker's
    listing index follows the change log."""
    since = time.monotonic()
    while True:
        page.goto(TAKING)
        if (page.get_by_role("link", name=name, exact=True).count() > 0) == listed:
            return
        assert time.monotonic() - since < seconds, f"{name} listed: {not listed}"
        time.sleep(0.1)


def path_of(url: str) -> str:
    """The live server is not settings.SITE_URL: an emailed link is followed by its path."""
    return urlsplit(url).path


def test_an_unconfirmed_listing_lapses_and_one_click_puts_it_right(
    directory, new_page, screenshot, assert_no_axe_violations, staff_page
):
    story = directory.story
    today = timezone.localdate()
    # Confirmed 31 days ago and reminded 14 days ago, by the hourly job on those days.
    Provider.objects.filter(pk=story.pk).update(
        accepting_confirmed_on=today - datetime.timedelta(days=45),
        availability_reminded_on=None,
    )
    mail.outbox.clear()
    call_command("keep_listings_current")
    [reminder] = [m for m in mail.outbox if m.to == [story.email]]
    assert "Are you still taking new clients?" in reminder.subject
    yes = next(path_of(url) for url in URL.findall(reminder.body) if url.endswith("/yes/"))
    Provider.objects.filter(pk=story.pk).update(
        availability_reminded_on=today - datetime.timedelta(days=14)
    )
    call_command("keep_listings_current")
    story.refresh_from_db()
    assert story.availability_lapsed

    # Someone on a phone: the listing says it is unconfirmed, and "taking new clients" leaves it out.
    page = new_page(width=360)
    page.goto(story.get_absolute_url())
    said = f"Availability not confirmed since {(today - datetime.timedelta(days=45)):%-d %B %Y}"
    expect(page.locator("main header.profile-header")).to_contain_text(said)
    screenshot(page, "availability-lapsed-profile")
    assert_no_axe_violations(page, "a lapsed profile")
    listed_within(page, story.name, listed=False)

    # The provider, on their phone, follows the email's link: it asks first.
    provider_page = new_page(width=360)
    provider_page.goto(yes)
    expect(provider_page.get_by_role("heading", level=1)).to_have_text("Still taking new clients?")
    screenshot(provider_page, "availability-confirm")
    assert_no_axe_violations(provider_page, "the confirmation page")
    provider_page.get_by_role("button", name="Yes, I am taking new clients").click()
    expect(provider_page.get_by_role("status")).to_contain_text(
        "now says you are taking new clients"
    )
    screenshot(provider_page, "availability-confirmed")

    # Back in the results taking new clients, within the seconds the index takes.
    listed_within(page, story.name, listed=True)
    card = page.locator("ol.cards > li").filter(
        has=page.get_by_role("link", name=story.name, exact=True)
    )
    expect(card).to_contain_text(f"Taking new clients (confirmed {today:%-d %B %Y})")
    screenshot(page, "availability-taking-again")

    # Staff see the counts by state.
    admin, _user = staff_page("availability-editor")
    counts = admin.locator("#availability")
    expect(counts).to_contain_text("Taking new clients, confirmed")
    expect(counts).to_contain_text("Lapsed: not confirmed in time")
    expect(counts).to_contain_text("Paused: enquiries unanswered")
    screenshot(admin, "availability-admin-counts")
    counts.get_by_role("link", name="Taking new clients, confirmed").click()
    expect(admin.get_by_role("link", name=story.name, exact=True)).to_be_visible()
