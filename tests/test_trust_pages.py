"""The pages a trustworthy service owes its users, linked from every page's footer."""

import pytest

PAGES = {
    "/about/": "How listings are checked",
    "/privacy/": "Your rights",
    "/accessibility/": "WCAG",
    "/contact/": "We are not a crisis service",
}


@pytest.mark.parametrize(("url", "text"), PAGES.items())
def test_each_page_answers(client, db, url, text):
    response = client.get(url)
    assert response.status_code == 200
    assert text in response.content.decode()


@pytest.mark.parametrize("page", ["/", "/find/", "/guide/", "/my-listing/"])
def test_every_page_links_to_them(client, db, page):
    html = client.get(page).content.decode()
    for url in [*PAGES, "/my-listing/"]:
        assert f'href="{url}"' in html, (page, url)


def test_the_privacy_notice_gives_the_periods_the_settings_keep(client, db, settings):
    settings.KEEP_ENQUIRIES_DAYS = 45
    settings.KEEP_REPORTS_DAYS = 120
    settings.KEEP_RECOMMENDATIONS_DAYS = 30
    html = client.get("/privacy/").content.decode()
    assert "kept for 45 days" in html and "45 days from when you send it" in html
    assert "then 120 days" in html
    assert "for 30 days after our staff decide" in html


def test_the_notice_names_the_explicit_consent_the_form_asks_for(client, make_published_provider):
    provider = make_published_provider("Willow Practice")
    form = client.get(f"/providers/{provider.slug}/contact/").content.decode()
    assert "I agree that" in form and "may say something about my health" in form
    assert "explicit consent" in client.get("/privacy/").content.decode()
