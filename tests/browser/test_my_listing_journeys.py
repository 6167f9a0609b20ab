"""A provider keeps their own listing, in Chromium: signing in by the emailed link, a fee that
shows in the results within 2 s, a photo, a qualification that waits for staff, and staff's
decision that the provider then sees."""

import io
import re
import time

import pytest
from django.core import mail
from PIL import Image
from playwright.sync_api import expect

from services.models import ProposedChange

pytestmark = pytest.mark.browser

LINK = re.compile(r"https?://[^/\s]+(/my-listing/sign-in/[^/\s]+/)")
PASSWORD = "a-long-browser-test-password"


def sign_in(page, email):
    mail.outbox.clear()
    page.goto("/")
    page.get_by_role("link", name="Keep your listing up to date").click()
    page.get_by_label("Your email address").fill(email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    (message,) = mail.outbox
    page.goto(LINK.search(message.body)[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your listing")


def a_photo(tmp_path):
    image = Image.new("RGB", (600, 600), (120, 160, 190))
    for x in range(200, 400):
        for y in range(150, 450):
            image.putpixel((x, y), (230, 200, 170))
    path = tmp_path / "me.jpg"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("width", [360, 1280])
def test_a_provider_changes_a_fee_and_adds_a_photo_and_a_qualification(
    directory, new_page, screenshot, assert_no_axe_violations, tmp_path, width, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    page = new_page(width=width)
    sign_in(page, "hello@lucia-ferrer.example.org")
    screenshot(page, "my-listing")
    assert_no_axe_violations(page, "my listing")

    # A fee: live in the results within 2 s.
    page.get_by_role("link", name=re.compile("Counselling")).first.click()
    page.get_by_label("Lowest fee a session (£)").fill("35")
    page.get_by_label("Highest fee a session (£)").fill("45")
    screenshot(page, "my-listing-service")
    # By keyboard: after a full-page screenshot of a page this tall, Chromium's click at 360 px
    # can land off the button.
    page.get_by_role("button", name="Save").press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Saved. Your changes are live.")
    saved = time.monotonic()
    results = new_page(width=width)
    while True:
        results.goto("/find/?q=Ferrer")
        card = results.locator("article", has_text="Lucía Ferrer").first
        if "£35" in card.inner_text():
            break
        assert time.monotonic() - saved < 2, "the new fee was not in the results within 2 s"
        time.sleep(0.1)

    # A photo, with its description.
    page.get_by_role("link", name="Add a photo").click()
    page.get_by_label(re.compile(r"^Photo\b")).set_input_files(str(a_photo(tmp_path)))
    page.get_by_label("Describe the photo").fill("Lucía smiling, in a blue jumper")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Your photo is live")
    results.goto("/providers/lucia-ferrer/")
    photo = results.get_by_role("img", name="Lucía smiling, in a blue jumper")
    expect(photo).to_be_visible()

    # A qualification waits for our check.
    page.get_by_role("link", name="Add a qualification").click()
    page.get_by_label("Kind").select_option(label="Licence or registration")
    page.get_by_label("Title").fill("Accredited member")
    page.get_by_label("Issuing body").fill("UKCP")
    page.get_by_label("Registration or licence number").fill("UK-778899")
    page.get_by_role("button", name="Send for our check").click()
    expect(page.get_by_role("heading", name="Waiting for our check")).to_be_visible()
    expect(page.get_by_role("cell", name="UK-778899")).to_be_visible()
    screenshot(page, "my-listing-waiting")
    assert_no_axe_violations(page, "my listing, a change waiting")
    assert ProposedChange.objects.filter(state="waiting", fact="qualification").count() == 1
