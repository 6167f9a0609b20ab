"""Problem reports, the needs-review list, verification ages on the admin index."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services.models import Provider, Report
from services.reports import report_dismiss, report_resolve, report_submit

pytestmark = pytest.mark.django_db

PROVIDERS = reverse("admin:services_provider_changelist")
REPORTS = reverse("admin:services_report_changelist")
REVIEW = reverse("admin:services_listingforreview_changelist")


def review_names(response) -> list[str]:
    assert response.status_code == 200
    return [row.name for row in response.context["cl"].result_list]


@pytest.fixture
def listings(make_published_provider, make_complete_provider, days_ago):
    make_complete_provider("Draft Listing")  # not public yet: its first check comes with publishing
    return {
        "fresh": make_published_provider("Fresh Listing", last_verified=days_ago(30)),
        "stale": make_published_provider("Stale Listing", last_verified=days_ago(400)),
        "never": make_published_provider("Never Checked"),
        "reported": make_published_provider("Reported Listing", last_verified=days_ago(10)),
        "archived": make_complete_provider(
            "Archived Listing", status="archived", last_verified=days_ago(900)
        ),
    }


def test_open_reports_flag_the_listing_and_closing_them_clears_it(
    staff_client, staff_user, listings
):
    reported = listings["reported"]
    first = report_submit(provider=reported, problem="phone")
    report_submit(provider=reported, problem="other", details="Wrong fees.")
    html = staff_client.get(PROVIDERS).content.decode()
    assert "⚠ 2 open</a>" in html
    flagged = staff_client.get(PROVIDERS, {"reports": "open"})
    assert [p.name for p in flagged.context["cl"].result_list] == ["Reported Listing"]

    report_resolve(report=first, by=staff_user)
    first.refresh_from_db()
    assert (first.status, first.closed_by) == ("resolved", staff_user)
    assert first.closed_at is not None
    assert "⚠ 1 open</a>" in staff_client.get(PROVIDERS).content.decode()


def test_needs_review_lists_stale_never_checked_and_reported_listings(
    staff_client, listings, days_ago
):
    report_submit(provider=listings["reported"], problem="closed")
    names = review_names(staff_client.get(REVIEW))
    # Reports first, then the longest unchecked; fresh, draft and archived ones are not there.
    assert names == ["Reported Listing", "Never Checked", "Stale Listing"]
    html = staff_client.get(REVIEW).content.decode()
    assert "1 open report" in html
    assert "never verified" in html
    assert "not verified for over 12 months" in html
    change = reverse("admin:services_provider_change", args=[listings["stale"].pk])
    assert f'<a href="{change}">Stale Listing</a>' in html


def test_a_dismissed_report_takes_a_listing_off_the_review_list(staff_client, staff_user, listings):
    report = report_submit(provider=listings["reported"], problem="moved")
    report_dismiss(report=report, by=staff_user)
    assert "Reported Listing" not in review_names(staff_client.get(REVIEW))
    assert set(Provider.objects.needs_review().values_list("name", flat=True)) == {
        "Stale Listing",
        "Never Checked",
    }


def test_editor_sees_the_queues_and_closes_reports(editor_client, editor, listings):
    report = report_submit(provider=listings["reported"], problem="not_taking")
    assert review_names(editor_client.get(REVIEW))[0] == "Reported Listing"
    response = editor_client.post(
        REPORTS,
        {
            "action": "resolve",
            "_selected_action": [report.pk],
            "index": 0,
            "resolution": "They are taking clients again.",
        },
        follow=True,
    )
    assert "1 report resolved." in [str(m) for m in response.context["messages"]]
    report.refresh_from_db()
    assert (report.status, report.closed_by) == ("resolved", editor)


def test_the_review_list_is_read_only(staff_client, listings):
    html = staff_client.get(REVIEW).content.decode()
    assert "Add listing needing review" not in html
    assert 'name="action"' not in html


def test_admin_index_counts_published_listings_by_verification_age(
    staff_client, listings, make_published_provider, days_ago, django_assert_max_num_queries
):
    make_published_provider("Half A Year", last_verified=days_ago(250))
    report_submit(provider=listings["fresh"], problem="phone")
    response = staff_client.get(reverse("admin:index"))
    html = response.content.decode()
    counts = {
        "verified=6m": 2,  # fresh, reported
        "verified=12m": 1,
        "verified=stale": 1,
        "verified=never": 1,
    }
    for link, count in counts.items():
        assert f"published&amp;{link}" in html
        row = html.split(f"published&amp;{link}", 1)[1].split("</tr>", 1)[0]
        assert f"<td>{count}</td>" in row, link
    assert '<th scope="row">All published</th><td>5</td>' in html
    assert "Open problem reports</a></th><td>1</td>" in html
    assert "Listings needing review</a>" in html
    review_row = html.split("Listings needing review</a>", 1)[1].split("</tr>", 1)[0]
    assert "<td>3</td>" in review_row  # stale, never checked, reported (fresh)


def test_report_rules_are_in_the_database_too(listings):
    from django.db import IntegrityError, transaction

    with transaction.atomic(), pytest.raises(IntegrityError):
        Report.objects.create(provider=listings["fresh"], problem="other", details="")
    with transaction.atomic(), pytest.raises(IntegrityError):
        Report.objects.create(provider=listings["fresh"], problem="gremlins")


def test_saving_the_listing_keeps_its_open_report_count(staff_client, html_form, listings):
    provider = listings["reported"]
    change = reverse("admin:services_provider_change", args=[provider.pk])
    data = html_form.parse(staff_client.get(change).content.decode(), "provider_form")
    report_submit(provider=provider, problem="phone")  # arrives while the form is open
    data["statement"] = "Edited."
    assert staff_client.post(change, {**data, "_save": "Save"}).status_code == 302
    provider.refresh_from_db()
    assert (provider.statement, provider.open_reports) == ("Edited.", 1)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite locks the whole database for a write"
)
@pytest.mark.parametrize("change", ["submit", "resolve", "dismiss"])
def test_every_change_to_a_listings_reports_locks_the_listing_before_it_recounts(
    listings, staff_user, change
):
    reported = listings["reported"]
    report = report_submit(provider=reported, problem="phone")
    with CaptureQueriesContext(connection) as queries:
        if change == "submit":
            report_submit(provider=reported, problem="other", details="The fees are wrong.")
        elif change == "resolve":
            report_resolve(report=report, by=staff_user)
        else:
            report_dismiss(report=report, by=staff_user)
    statements = [query["sql"] for query in queries.captured_queries]
    locks = [
        i
        for i, sql in enumerate(statements)
        if 'FROM "services_provider"' in sql and "FOR UPDATE" in sql
    ]
    recount = next(i for i, sql in enumerate(statements) if "COUNT(" in sql)
    assert locks and locks[0] < recount, statements
