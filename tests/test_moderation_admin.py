"""Staff's queues, acted on from each item's own page: providers' changes waiting for our
check, problem reports (closed with a resolution note), recommendations; and who manages a
listing (invite, revoke)."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from services.models import (
    ListingManager,
    OutgoingEmail,
    ProposedChange,
    Provider,
    Recommendation,
    Report,
)
from services.recommendations import recommendation_submit
from services.reports import report_resolve, report_submit

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:services_proposedchange_changelist")
REPORTS = reverse("admin:services_report_changelist")
RECOMMENDATIONS = reverse("admin:services_recommendation_changelist")


def messages_in(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def viewer(django_user_model):
    """Staff who may look at listings and the queues, but not verify or moderate."""
    user = django_user_model.objects.create_user(
        "viewer", "viewer@example.org", "a-long-test-password", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="services",
            codename__in=["view_provider", "view_report", "view_recommendation"],
        )
    )
    return user


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


# --------------------------------------------------------------------------- the queue


@pytest.fixture
def listing(make_complete_provider):
    return make_complete_provider("Hazel Orme")


@pytest.fixture
def propose(listing, django_user_model):
    provider_user = django_user_model.objects.create_user("hazel", "hazel@example.org")
    ListingManager.objects.create(provider=listing, user=provider_user)

    def make(new_name="Hazel Orme Counselling", provider=None, **fields):
        provider = provider or listing
        return ProposedChange.objects.create(
            provider=provider,
            fact="name",
            old_value={"name": [provider.name]},
            new_value={"name": [new_name]},
            proposed_by=provider_user,
            **fields,
        )

    return make


def change_url(change):
    return reverse("admin:services_proposedchange_change", args=[change.pk])


def test_queue_lists_waiting_changes_oldest_first(
    staff_client, propose, make_complete_provider, django_assert_num_queries
):
    older = propose("First Name")
    other = propose("Other Name", provider=make_complete_provider("Ivo Penn"))
    ProposedChange.objects.filter(pk=older.pk).update(
        proposed_at=timezone.now() - datetime.timedelta(days=3)
    )
    decided = propose("Decided Name", state=ProposedChange.State.APPROVED)
    staff_client.get(QUEUE)
    # session, user, the capped count, the page (its listings and proposers joined)
    with django_assert_num_queries(4):
        response = staff_client.get(QUEUE)
    assert [c.pk for c in response.context["cl"].result_list] == [older.pk, other.pk]
    html = response.content.decode()
    assert "hazel@example.org" in html and "Hazel Orme" in html and "Ivo Penn" in html
    decided_list = staff_client.get(QUEUE, {"state": "decided"})
    assert [c.pk for c in decided_list.context["cl"].result_list] == [decided.pk]
    for_one = staff_client.get(QUEUE, {"provider__id__exact": other.provider_id})
    assert [c.pk for c in for_one.context["cl"].result_list] == [other.pk]


def test_change_page_shows_old_and_new_and_approves(staff_client, staff_user, propose, listing):
    change = propose()
    page = staff_client.get(change_url(change))
    html = page.content.decode()
    assert "<del>Hazel Orme</del>" in html
    assert "<ins>Hazel Orme Counselling</ins>" in html
    assert 'name="_approve"' in html and 'name="_reject"' in html
    assert 'name="note"' in html

    response = staff_client.post(
        change_url(change), {"_approve": "Approve", "note": "Checked with BACP."}, follow=True
    )
    assert response.redirect_chain[-1][0] == QUEUE
    assert f"The proposed change “{change}” was approved." in messages_in(response)
    change.refresh_from_db()
    assert (change.state, change.decided_by, change.decision_note) == (
        "approved",
        staff_user,
        "Checked with BACP.",
    )
    assert Provider.objects.get(pk=listing.pk).name == "Hazel Orme Counselling"
    assert OutgoingEmail.objects.filter(to="hazel@example.org", purpose="moderation").exists()


def test_reject_needs_a_note_and_keeps_what_was_typed(staff_client, staff_user, propose, listing):
    change = propose()
    response = staff_client.post(change_url(change), {"_reject": "Reject", "note": "   "})
    assert response.status_code == 400
    assert "Say why, in a note the provider will read." in response.content.decode()
    change.refresh_from_db()
    assert change.state == "waiting"

    response = staff_client.post(
        change_url(change), {"_reject": "Reject", "note": "The register has another name."}
    )
    assert response.status_code == 302
    change.refresh_from_db()
    assert (change.state, change.decision_note) == ("rejected", "The register has another name.")
    assert Provider.objects.get(pk=listing.pk).name == "Hazel Orme"


def test_a_decided_change_is_read_only(staff_client, staff_user, propose):
    change = propose()
    staff_client.post(change_url(change), {"_reject": "Reject", "note": "No."})
    html = staff_client.get(change_url(change)).content.decode()
    assert 'name="_approve"' not in html and 'name="note"' not in html
    response = staff_client.post(
        change_url(change), {"_approve": "Approve", "note": "Changed my mind."}
    )
    assert response.status_code == 200
    assert any("already decided" in m and "Changed my mind." in m for m in messages_in(response))
    change.refresh_from_db()
    assert change.state == "rejected"


def test_only_staff_who_verify_decide(viewer_client, propose):
    change = propose()
    page = viewer_client.get(change_url(change))
    assert page.status_code == 200
    assert 'name="_approve"' not in page.content.decode()
    assert viewer_client.post(change_url(change), {"_approve": "Approve"}).status_code == 403
    change.refresh_from_db()
    assert change.state == "waiting"


def test_the_queue_cannot_be_edited_or_added_to(staff_client, propose):
    change = propose()
    assert staff_client.post(change_url(change), {"state": "approved"}).status_code == 403
    assert staff_client.get(reverse("admin:services_proposedchange_add")).status_code == 403


def test_admin_index_links_the_queue(staff_client, propose):
    propose()
    html = staff_client.get(reverse("admin:index")).content.decode()
    assert f'<a href="{QUEUE}">Providers’ changes waiting for our check</a>' in html


# --------------------------------------------------------------------------- managers


def provider_url(provider):
    return reverse("admin:services_provider_change", args=[provider.pk])


def invite_url(provider):
    return reverse("admin:services_provider_manager_invite", args=[provider.pk])


def revoke_url(manager):
    return reverse("admin:services_provider_manager_revoke", args=[manager.provider_id, manager.pk])


def test_invite_a_manager_from_the_listing_page(staff_client, staff_user, listing):
    page = staff_client.get(provider_url(listing)).content.decode()
    assert "Who manages this listing" in page and "No one manages it yet." in page
    assert f'action="{invite_url(listing)}"' in page

    response = staff_client.post(invite_url(listing), {"manager-email": " Ana@Example.org "})
    assert response.status_code == 302
    assert response["Location"] == provider_url(listing) + "#managers"
    manager = ListingManager.objects.get(provider=listing)
    assert (manager.user.email, manager.invited_by) == ("ana@example.org", staff_user)
    assert OutgoingEmail.objects.filter(to="ana@example.org", purpose="invitation").exists()

    page = staff_client.get(provider_url(listing)).content.decode()
    assert "ana@example.org" in page and "staff@example.org" in page and "Active" in page
    assert f'action="{revoke_url(manager)}"' in page


def test_a_bad_address_is_a_form_error_with_the_address_kept(staff_client, listing):
    response = staff_client.post(invite_url(listing), {"manager-email": "ana at example"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert 'value="ana at example"' in html
    assert not ListingManager.objects.exists()


def test_revoke_a_manager(staff_client, staff_user, listing, django_user_model):
    user = django_user_model.objects.create_user("ana", "ana@example.org")
    manager = ListingManager.objects.create(provider=listing, user=user)
    assert staff_client.get(revoke_url(manager)).status_code == 405
    response = staff_client.post(revoke_url(manager), follow=True)
    assert "ana@example.org can no longer manage “Hazel Orme”." in messages_in(response)
    manager.refresh_from_db()
    assert (manager.revoked_by, manager.revoked_at is not None) == (staff_user, True)
    page = response.content.decode()
    assert "Revoked " in page and f'action="{revoke_url(manager)}"' not in page
    # Another listing's manager cannot be revoked through this one.
    other = ListingManager.objects.create(
        provider=Provider.objects.create(name="Other", slug="other", email="o@example.org"),
        user=user,
    )
    wrong = reverse("admin:services_provider_manager_revoke", args=[listing.pk, other.pk])
    assert staff_client.post(wrong).status_code == 404


def test_only_staff_who_verify_invite_or_revoke(viewer_client, listing, django_user_model):
    user = django_user_model.objects.create_user("ana", "ana@example.org")
    manager = ListingManager.objects.create(provider=listing, user=user)
    page = viewer_client.get(provider_url(listing)).content.decode()
    assert "ana@example.org" in page
    assert "manager-email" not in page and ">Revoke</button>" not in page
    assert (
        viewer_client.post(invite_url(listing), {"manager-email": "x@example.org"}).status_code
        == 403
    )
    assert viewer_client.post(revoke_url(manager)).status_code == 403
    manager.refresh_from_db()
    assert manager.revoked_at is None


def test_saving_the_listing_ignores_the_invitation_field(staff_client, html_form, listing):
    data = html_form.parse(
        staff_client.get(provider_url(listing)).content.decode(), "provider_form"
    )
    data["statement"] = "Edited."
    assert staff_client.post(provider_url(listing), {**data, "_save": "Save"}).status_code == 302
    saved = Provider.objects.get(pk=listing.pk)
    assert (saved.statement, saved.email) == ("Edited.", listing.email)
    assert not ListingManager.objects.exists()


# --------------------------------------------------------------------------- reports


@pytest.fixture
def report(make_published_provider):
    return report_submit(provider=make_published_provider("Orla Finch"), problem="phone")


def report_url(report):
    return reverse("admin:services_report_change", args=[report.pk])


def test_resolve_a_report_from_its_page_with_a_note(editor_client, editor, report):
    html = editor_client.get(report_url(report)).content.decode()
    assert 'name="_resolve"' in html and 'name="_dismiss"' in html
    response = editor_client.post(
        report_url(report),
        {"_resolve": "Resolve", "note": "New number from their website."},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == REPORTS
    assert f"The report “{report}” was resolved." in messages_in(response)
    report.refresh_from_db()
    assert (report.status, report.closed_by, report.resolution) == (
        "resolved",
        editor,
        "New number from their website.",
    )
    assert Provider.objects.get(pk=report.provider_id).open_reports == 0
    assert LogEntry.objects.filter(
        object_id=str(report.pk), change_message="Resolved: New number from their website."
    ).exists()


def test_closing_a_report_needs_a_note(editor_client, report):
    response = editor_client.post(report_url(report), {"_dismiss": "Dismiss", "note": ""})
    assert response.status_code == 400
    assert "a report is closed with a note." in response.content.decode()
    report.refresh_from_db()
    assert report.status == "open"


def test_a_closed_report_shows_its_resolution_and_no_buttons(editor_client, staff_user, report):
    report_resolve(report=report, by=staff_user, resolution="Phoned them.")
    html = editor_client.get(report_url(report)).content.decode()
    assert "Phoned them." in html
    assert 'name="_resolve"' not in html


def test_closing_reports_from_the_list_asks_for_one_note(editor_client, report):
    action = {"action": "dismiss", "_selected_action": [report.pk], "index": 0}
    asked = editor_client.post(REPORTS, action)
    assert asked.status_code == 200
    assert 'name="resolution"' in asked.content.decode()
    report.refresh_from_db()
    assert report.status == "open"

    confirm = {"action": "dismiss", "_selected_action": [report.pk], "select_across": "0"}
    refused = editor_client.post(REPORTS, {**confirm, "resolution": " "})
    assert refused.status_code == 400
    response = editor_client.post(REPORTS, {**confirm, "resolution": "Spam."}, follow=True)
    assert "1 report dismissed." in messages_in(response)
    report.refresh_from_db()
    assert (report.status, report.resolution) == ("dismissed", "Spam.")


def test_staff_without_the_permission_cannot_close(viewer_client, report):
    assert 'name="_resolve"' not in viewer_client.get(report_url(report)).content.decode()
    response = viewer_client.post(report_url(report), {"_resolve": "Resolve", "note": "x"})
    assert response.status_code == 403
    report.refresh_from_db()
    assert report.status == Report.Status.OPEN


# --------------------------------------------------------------------------- recommendations


@pytest.fixture
def recommendation(make_published_provider):
    return recommendation_submit(
        provider=make_published_provider("Pim Lowe"),
        author_name="Jo",
        relationship="colleague",
        author_email="jo@example.org",
        text="Thoughtful and reliable.",
        consents_to_publication=True,
    )


def test_approve_and_reject_a_recommendation_from_its_page(editor_client, editor, recommendation):
    url = reverse("admin:services_recommendation_change", args=[recommendation.pk])
    html = editor_client.get(url).content.decode()
    assert 'name="_approve"' in html and 'name="_reject"' in html
    response = editor_client.post(url, {"_approve": "Approve"}, follow=True)
    assert response.redirect_chain[-1][0] == RECOMMENDATIONS
    recommendation.refresh_from_db()
    assert (recommendation.status, recommendation.moderated_by) == ("approved", editor)
    assert Provider.objects.get(pk=recommendation.provider_id).recommendations_approved == 1

    html = editor_client.get(url).content.decode()
    assert 'name="_approve"' not in html and 'name="_reject"' in html
    editor_client.post(url, {"_reject": "Reject"})
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.REJECTED
    assert Provider.objects.get(pk=recommendation.provider_id).recommendations_approved == 0


def test_staff_without_the_permission_cannot_moderate(viewer_client, recommendation):
    url = reverse("admin:services_recommendation_change", args=[recommendation.pk])
    assert 'name="_approve"' not in viewer_client.get(url).content.decode()
    assert viewer_client.post(url, {"_approve": "Approve"}).status_code == 403
    recommendation.refresh_from_db()
    assert recommendation.status == Recommendation.Status.PENDING


def test_a_staff_address_cannot_be_invited(staff_client, listing):
    response = staff_client.post(invite_url(listing), {"manager-email": "staff@example.org"})
    assert response.status_code == 400
    assert "belongs to a staff account" in response.content.decode()
    assert not ListingManager.objects.exists()
