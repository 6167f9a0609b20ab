"""Moderated recommendations: hidden until approved, counted on the listing, shown on the profile."""

import pytest
from django.contrib.admin.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from services.models import ListingsVersion, Provider, Recommendation
from services.recommendations import (
    recommendation_approve,
    recommendation_delete,
    recommendation_reject,
    recommendation_submit,
    recommendations_recount,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:services_recommendation_changelist")


@pytest.fixture
def provider(make_published_provider):
    return make_published_provider("Linden Hart")


@pytest.fixture
def submit(provider):
    def make(text="Thoughtful and reliable.", author_name="Jo", relationship="colleague", **more):
        return recommendation_submit(
            provider=more.pop("provider", provider),
            author_name=author_name,
            relationship=relationship,
            author_email="jo@example.org",
            text=text,
            consents_to_publication=True,
            **more,
        )

    return make


def count_of(provider) -> int:
    return Provider.objects.get(pk=provider.pk).recommendations_approved


def test_a_new_recommendation_waits_for_staff(submit, provider):
    recommendation = submit()
    assert recommendation.status == Recommendation.Status.PENDING
    assert count_of(provider) == 0


def test_submit_refuses_without_consent_or_with_an_unknown_relationship(provider):
    fields = dict(provider=provider, author_name="Jo", author_email="jo@example.org", text="Good.")
    with pytest.raises(ValidationError):
        recommendation_submit(relationship="colleague", consents_to_publication=False, **fields)
    with pytest.raises(ValidationError):
        recommendation_submit(relationship="cousin", consents_to_publication=True, **fields)
    assert not Recommendation.objects.exists()


def test_approve_records_who_and_when_and_counts(submit, provider, staff_user):
    before = ListingsVersion.current()
    recommendation = recommendation_approve(recommendation=submit(), by=staff_user)
    assert recommendation.status == Recommendation.Status.APPROVED
    assert recommendation.moderated_by == staff_user
    assert recommendation.moderated_at is not None
    assert count_of(provider) == 1
    # The in-memory listing index is told, so "recommended" results follow.
    assert ListingsVersion.current() == before + 1
    # Approving again changes no count and rebuilds nothing.
    recommendation_approve(recommendation=recommendation, by=staff_user)
    assert count_of(provider) == 1
    assert ListingsVersion.current() == before + 1


def test_reject_takes_an_approved_one_down(submit, provider, staff_user, editor):
    kept, taken_down = submit("Kept."), submit("Taken down.")
    for recommendation in (kept, taken_down):
        recommendation_approve(recommendation=recommendation, by=staff_user)
    assert count_of(provider) == 2
    rejected = recommendation_reject(recommendation=taken_down, by=editor)
    assert (rejected.status, rejected.moderated_by) == (Recommendation.Status.REJECTED, editor)
    assert count_of(provider) == 1


def test_only_staff_with_the_permission_may_delete(
    submit, provider, staff_user, editor, django_user_model
):
    recommendation = submit()
    recommendation_approve(recommendation=recommendation, by=staff_user)
    provider_account = django_user_model.objects.create_user("linden", password="x")
    for who in (None, provider_account, editor):
        with pytest.raises(PermissionDenied):
            recommendation_delete(recommendation=recommendation, by=who)
    assert Recommendation.objects.filter(pk=recommendation.pk).exists()
    assert count_of(provider) == 1
    recommendation_delete(recommendation=recommendation, by=staff_user)
    assert not Recommendation.objects.exists()
    assert count_of(provider) == 0


def test_recount_repairs_a_wrong_count(submit, provider, staff_user):
    recommendation_approve(recommendation=submit(), by=staff_user)
    Provider.objects.filter(pk=provider.pk).update(recommendations_approved=7)
    recommendations_recount(provider_id=provider.pk)
    assert count_of(provider) == 1


def test_recommended_queryset(submit, provider, make_published_provider, staff_user):
    make_published_provider("Not Recommended")
    recommendation_approve(recommendation=submit(), by=staff_user)
    assert list(Provider.objects.recommended()) == [Provider.objects.get(pk=provider.pk)]


# --------------------------------------------------------------------------- the profile


def test_profile_shows_approved_ones_and_their_count_only(client, submit, provider, staff_user):
    first = submit(
        "Calm and clear.",
        author_name="Dr A. Patel",
        relationship="referrer",
        author_role="GP, Leeds",
    )
    second = submit("I felt <b>heard</b>.", author_name="Sam", relationship="former_client")
    submit("Still waiting.")
    rejected = submit("Not genuine.")
    for recommendation in (first, second):
        recommendation_approve(recommendation=recommendation, by=staff_user)
    recommendation_reject(recommendation=rejected, by=staff_user)

    html = client.get(provider.get_absolute_url()).content.decode()
    assert '<h2 id="recommendations">Recommendations (2)</h2>' in html
    assert '<a href="#recommendations">2 recommendations</a>' in html
    assert "Calm and clear." in html
    assert "Dr A. Patel, GP, Leeds · A professional who refers people to them" in html
    assert "Sam · A former client" in html
    # Plain text, shown escaped.
    assert "I felt &lt;b&gt;heard&lt;/b&gt;." in html
    assert "<b>heard</b>" not in html
    assert "Still waiting." not in html and "Not genuine." not in html
    # Newest first.
    assert html.index("I felt") < html.index("Calm and clear.")


def test_profile_shows_the_newest_ten_and_says_how_many(client, submit, provider, staff_user):
    for n in range(12):
        recommendation_approve(recommendation=submit(f"Recommendation number {n}."), by=staff_user)
    html = client.get(provider.get_absolute_url()).content.decode()
    assert "Recommendations (12)" in html
    assert html.count("Recommendation number") == 10
    assert "Showing the 10 most recent of 12." in html


# --------------------------------------------------------------------------- the admin


def run_action(client, action, *recommendations):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [r.pk for r in recommendations], "index": 0},
        follow=True,
    )


def test_editor_approves_and_rejects_in_the_admin(submit, provider, editor_client, editor):
    waiting = submit("Approve me.")
    response = run_action(editor_client, "approve", waiting)
    assert response.status_code == 200
    assert "1 recommendation approved." in [str(m) for m in response.context["messages"]]
    waiting.refresh_from_db()
    assert (waiting.status, waiting.moderated_by) == ("approved", editor)
    assert LogEntry.objects.filter(object_id=str(waiting.pk), change_message="Approved").exists()
    assert count_of(provider) == 1

    run_action(editor_client, "reject", waiting)
    waiting.refresh_from_db()
    assert waiting.status == "rejected"
    assert count_of(provider) == 0


def test_editor_cannot_delete_or_rewrite_a_recommendation(submit, editor_client, staff_user):
    recommendation = submit("Do not edit my words.")
    recommendation_approve(recommendation=recommendation, by=staff_user)
    change_url = reverse("admin:services_recommendation_change", args=[recommendation.pk])
    delete_url = reverse("admin:services_recommendation_delete", args=[recommendation.pk])
    page = editor_client.get(change_url)
    assert page.status_code == 200
    assert 'name="text"' not in page.content.decode()  # shown, not editable
    assert editor_client.post(delete_url, {"post": "yes"}).status_code == 403
    response = run_action(editor_client, "delete_selected", recommendation)
    assert Recommendation.objects.filter(pk=recommendation.pk).exists()
    assert response.status_code == 200


def test_staff_delete_keeps_the_count_right(submit, provider, staff_client, staff_user):
    recommendation = submit()
    recommendation_approve(recommendation=recommendation, by=staff_user)
    delete_url = reverse("admin:services_recommendation_delete", args=[recommendation.pk])
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 302
    assert not Recommendation.objects.exists()
    assert count_of(provider) == 0


def test_saving_the_listing_does_not_overwrite_the_count(
    submit, provider, staff_client, staff_user, html_form
):
    change_url = reverse("admin:services_provider_change", args=[provider.pk])
    data = html_form.parse(staff_client.get(change_url).content.decode(), "provider_form")
    # Approved while the listing's form is open: the form holds the old count.
    recommendation_approve(recommendation=submit(), by=staff_user)
    data["statement"] = "Edited."
    assert staff_client.post(change_url, {**data, "_save": "Save"}).status_code == 302
    assert count_of(provider) == 1


def test_the_public_cannot_reach_moderation(submit):
    recommendation = submit()
    response = Client().post(
        CHANGELIST, {"action": "approve", "_selected_action": [recommendation.pk], "index": 0}
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    recommendation.refresh_from_db()
    assert recommendation.status == "pending"
