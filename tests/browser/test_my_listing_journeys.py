"""A provider keeps their own listing, in Chromium: signing in by the emailed link, a fee that
shows in the results within 2 s, a photo, a qualification that waits for staff, and staff's
decision that the provider then sees."""

import datetime
import io
import re
import time

import pytest
from django.core import mail
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from services.models import ProposedChange, Qualification

pytestmark = pytest.mark.browser

LINK = re.compile(r"https?://[^/\s]+(/my-listing/sign-in/[^/\s]+/)")


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


def test_staff_approve_a_licence_verify_it_with_evidence_and_the_provider_sees_it(
    directory, new_page, staff_page, screenshot
):
    provider = new_page(width=360)
    sign_in(provider, "hello@lucia-ferrer.example.org")
    provider.get_by_role("link", name="Add a qualification").click()
    provider.get_by_label("Kind").select_option(label="Licence or registration")
    provider.get_by_label("Title").fill("Registered psychotherapist")
    provider.get_by_label("Issuing body").fill("UKCP")
    provider.get_by_label("Registration or licence number").fill("UK-112233")
    provider.get_by_role("button", name="Send for our check").click()
    expect(provider.get_by_role("heading", name="Waiting for our check")).to_be_visible()

    # Staff approve it from the queue, with a note the provider reads.
    staff, desk = staff_page("desk", next="/admin/services/proposedchange/")
    change = ProposedChange.objects.get(state="waiting", fact="qualification")
    staff.goto(f"/admin/services/proposedchange/{change.pk}/change/")
    expect(staff.get_by_role("cell", name="UK-112233")).to_be_visible()
    staff.get_by_label("Note to the provider").fill("Welcome: we found you on the UKCP register.")
    screenshot(staff, "admin-approve-qualification")
    staff.get_by_role("button", name="Approve").click()
    expect(staff.get_by_text("was approved.")).to_be_visible()

    # Then verify it with evidence, on the listing's page.
    licence = Qualification.objects.get(number="UK-112233")
    listing = licence.provider
    staff.goto(f"/admin/services/provider/{listing.pk}/change/")
    prefix = staff.locator(f'input[name$="-id"][value="{licence.pk}"]').get_attribute("name")[:-3]
    today = timezone.localdate()
    staff.locator(f'[name="{prefix}-verified_on"]').fill(today.isoformat())
    staff.locator(f'[name="{prefix}-verified_how"]').select_option("register")
    staff.locator(f'[name="{prefix}-register_url"]').fill(
        "https://www.psychotherapy.org.uk/find-a-therapist/UK-112233"
    )
    expires = today + datetime.timedelta(days=360)
    staff.locator(f'[name="{prefix}-expires_on"]').fill(expires.isoformat())
    staff.get_by_role("button", name="Save", exact=True).click()
    expect(staff.locator(".messagelist")).to_contain_text("was changed successfully")
    licence.refresh_from_db()
    assert licence.verified_by == desk and licence.verified_how == "register"
    assert licence.expires_on == expires

    # The provider sees the outcome and the note; the public sees the check.
    provider.reload()
    expect(provider.get_by_role("heading", name="What we decided")).to_be_visible()
    expect(provider.get_by_text("we found you on the UKCP register")).to_be_visible()
    checked = f"checked by us {today.day} {today:%B %Y}"
    expect(provider.get_by_text(checked)).to_be_visible()
    screenshot(provider, "my-listing-decided")
    outcome = [m for m in mail.outbox if "approved" in m.subject]
    assert outcome and "we found you on the UKCP register" in outcome[0].body
