"""The Content-Security-Policy holds on real pages: public ones and the staff admin, in Chromium.

tests/browser/conftest.py fails any test whose pages logged a CSP violation or another error.
"""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_public_pages_run_under_the_policy(directory, new_page):
    page = new_page()
    profile = directory.story.get_absolute_url()
    for url in ["/", "/find/?q=grief&near=Leeds", profile, profile + "contact/", "/guide/"]:
        response = page.goto(url)
        policy = response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in policy
        assert "object-src 'none'" in policy
    # The profile's JSON-LD block carries the nonce the header names.
    page.goto(profile)
    nonce = page.locator("script[type='application/ld+json']").evaluate("s => s.nonce")
    assert nonce


def test_the_admin_runs_under_the_policy(directory, new_page, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.org", "a-long-test-password")
    page = new_page()
    page.goto("/admin/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("caption").first).to_have_text(
        "Published listings by when staff last verified them"
    )
    page.goto(f"/admin/services/provider/{directory.story.pk}/change/")
    expect(page.locator("#provider_form")).to_be_visible()
    # The admin's own scripts ran (collapsible fieldsets, autocomplete widgets).
    expect(page.locator(".select2-container").first).to_be_visible()
    page.goto("/admin/services/recommendation/")
    page.goto("/admin/services/listingforreview/")
