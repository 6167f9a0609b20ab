"""The listing's admin page on a laptop: every section fits 1280 px without scrolling sideways,
with its qualifications' checks, who manages it, and a change waiting for staff.

The admin is Django's own, so axe-core is not run on it (as in test_staff_csv.py).
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from services.models import ListingManager, ProposedChange, Provider, Qualification, Report

pytestmark = pytest.mark.browser


@pytest.fixture
def signed_in(directory, staff_page):
    page, _staff = staff_page("desk")
    return page


@pytest.fixture
def story(django_user_model):
    """The directory's story listing, with a checked licence, a manager and a waiting change."""
    provider = Provider.objects.get(slug="lucia-ferrer")
    today = timezone.localdate()
    Qualification.objects.filter(provider=provider, kind="licence").update(
        verified_how=Qualification.CheckedBy.REGISTER,
        register_url="https://www.bacp.co.uk/search/Register?q=0123456",
        expires_on=today + timedelta(days=20),
        verification_note="Checked the register; the membership number matches.",
    )
    user = django_user_model.objects.create_user("lucia", "hello@lucia-ferrer.example.org")
    ListingManager.objects.create(provider=provider, user=user)
    ProposedChange.objects.create(
        provider=provider,
        fact="name",
        old_value={"name": [provider.name]},
        new_value={"name": ["Lucía Ferrer Counselling"]},
        proposed_by=user,
    )
    return provider


def scroll_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def test_the_listing_page_fits_a_laptop(signed_in, story, screenshot):
    page = signed_in
    page.goto(f"/admin/services/provider/{story.pk}/change/")
    expect(page.get_by_role("heading", name="Who manages this listing")).to_be_visible()
    expect(page.get_by_text("hello@lucia-ferrer.example.org", exact=True)).to_be_visible()
    screenshot(page, "admin-listing")
    assert scroll_width(page) <= 1280


def test_the_queues_fit_a_laptop(signed_in, story, screenshot):
    page = signed_in
    change = ProposedChange.objects.get(provider=story)
    page.goto(f"/admin/services/proposedchange/{change.pk}/change/")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()
    screenshot(page, "admin-proposed-change")
    assert scroll_width(page) <= 1280

    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_text("Say why, in a note the provider will read.")).to_be_visible()
    page.get_by_label("Note to the provider").fill("The register has another name.")
    page.get_by_role("button", name="Reject").click()
    expect(page.get_by_text("was rejected.")).to_be_visible()

    page.goto("/admin/services/listingforreview/")
    expect(page.get_by_text("licence expires")).to_be_visible()
    assert scroll_width(page) <= 1280

    report = Report.objects.create(provider=story, problem="phone")
    page.goto(f"/admin/services/report/{report.pk}/change/")
    page.get_by_label("Resolution note").fill("New number from their website.")
    page.get_by_role("button", name="Resolve: the listing was corrected").click()
    expect(page.get_by_text("was resolved.")).to_be_visible()
