"""Verifying qualifications in the admin (who, when, how, the register entry, the expiry date),
and the "needs review" list: stale, reported, licences expiring, changes waiting for staff."""

import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse
from django.utils import timezone

from services.models import ProposedChange, Provider, Qualification

pytestmark = pytest.mark.django_db

REVIEW = reverse("admin:services_listingforreview_changelist")


def change_url(provider):
    return reverse("admin:services_provider_change", args=[provider.pk])


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def errors_of(caught) -> dict:
    return caught.value.message_dict


# --------------------------------------------------------------------------- the model's rules


def test_a_check_recorded_by_staff_says_how(make_provider, staff_user, days_ago):
    provider = make_provider()
    checked = Qualification(
        provider=provider, kind="licence", title="HCPC", verified_on=days_ago(1)
    )
    checked.verified_by = staff_user
    with pytest.raises(ValidationError) as caught:
        checked.full_clean()
    assert errors_of(caught) == {"verified_how": ["Say how it was checked."]}

    checked.verified_how = Qualification.CheckedBy.DOCUMENT
    checked.full_clean()


def test_a_date_without_a_checker_is_kept_as_it_came(make_provider, days_ago):
    # Imported (HSDS) or typed before staff were asked how: no one to ask now.
    legacy = Qualification(
        provider=make_provider(), kind="licence", title="HCPC", verified_on=days_ago(400)
    )
    legacy.full_clean()


def test_a_register_check_links_to_the_entry(make_provider, staff_user, days_ago):
    checked = Qualification(
        provider=make_provider(),
        kind="licence",
        title="HCPC",
        verified_on=days_ago(1),
        verified_how=Qualification.CheckedBy.REGISTER,
    )
    checked.verified_by = staff_user
    with pytest.raises(ValidationError) as caught:
        checked.full_clean()
    assert list(errors_of(caught)) == ["register_url"]
    checked.register_url = "https://www.hcpc-uk.org/check-the-register/PYL01234"
    checked.full_clean()


def test_only_a_licence_expires(make_provider):
    degree = Qualification(
        provider=make_provider(), kind="degree", title="MA", expires_on=in_days(300)
    )
    with pytest.raises(ValidationError) as caught:
        degree.full_clean()
    assert list(errors_of(caught)) == [NON_FIELD_ERRORS]
    degree.kind = Qualification.Kind.LICENCE
    degree.full_clean()


# --------------------------------------------------------------------------- the admin form


@pytest.fixture
def listing(make_complete_provider):
    """A draft listing whose one qualification (a licence) has never been checked."""
    return make_complete_provider("Juniper Hale")


def qualification_form(client, html_form, provider) -> dict:
    return html_form.parse(client.get(change_url(provider)).content.decode(), "provider_form")


def test_verifying_records_who_when_how_the_link_and_the_expiry(
    staff_client, staff_user, html_form, listing, days_ago
):
    data = qualification_form(staff_client, html_form, listing)
    data.update(
        {
            "qualifications-0-verified_on": days_ago(2).isoformat(),
            "qualifications-0-verified_how": "register",
            "qualifications-0-register_url": "https://www.bacp.co.uk/register/123",
            "qualifications-0-expires_on": in_days(200).isoformat(),
            "qualifications-0-verification_note": "Checked on the phone too.",
        }
    )
    response = staff_client.post(change_url(listing), {**data, "_save": "Save"})
    assert response.status_code == 302
    checked = listing.qualifications.get()
    assert (checked.verified_on, checked.verified_by, checked.verified_how) == (
        days_ago(2),
        staff_user,
        "register",
    )
    assert checked.register_url == "https://www.bacp.co.uk/register/123"
    assert checked.expires_on == in_days(200)
    assert checked.verification_note == "Checked on the phone too."
    page = staff_client.get(change_url(listing)).content.decode()
    assert "who checked it" in page and "staff@example.org" in page


def test_verifying_without_saying_how_is_refused_and_nothing_typed_is_lost(
    staff_client, html_form, listing, days_ago
):
    data = qualification_form(staff_client, html_form, listing)
    data.update(
        {
            "statement": "A statement typed at the same time.",
            "qualifications-0-verified_on": days_ago(2).isoformat(),
            "qualifications-0-register_url": "https://www.bacp.co.uk/register/123",
        }
    )
    response = staff_client.post(change_url(listing), {**data, "_save": "Save"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Say how it was checked." in html
    assert "A statement typed at the same time." in html
    assert 'value="https://www.bacp.co.uk/register/123"' in html
    unchanged = listing.qualifications.get()
    assert (unchanged.verified_on, unchanged.verified_by) == (None, None)


def test_editing_an_old_check_keeps_who_did_it(
    staff_client, html_form, listing, days_ago, django_user_model
):
    colleague = django_user_model.objects.create_user("colleague", "colleague@example.org")
    Qualification.objects.filter(provider=listing).update(
        verified_on=days_ago(100), verified_by=colleague, verified_how="document"
    )
    data = qualification_form(staff_client, html_form, listing)
    data["qualifications-0-number"] = "00999"
    assert staff_client.post(change_url(listing), {**data, "_save": "Save"}).status_code == 302
    kept = listing.qualifications.get()
    assert (kept.number, kept.verified_by, kept.verified_on) == ("00999", colleague, days_ago(100))


def test_a_legacy_date_does_not_block_saving_the_listing(
    staff_client, html_form, listing, days_ago
):
    Qualification.objects.filter(provider=listing).update(verified_on=days_ago(700))
    data = qualification_form(staff_client, html_form, listing)
    data["statement"] = "Edited."
    assert staff_client.post(change_url(listing), {**data, "_save": "Save"}).status_code == 302
    assert Provider.objects.get(pk=listing.pk).statement == "Edited."


def test_clearing_the_date_forgets_who_checked(
    staff_client, staff_user, html_form, listing, days_ago
):
    Qualification.objects.filter(provider=listing).update(
        verified_on=days_ago(10), verified_by=staff_user, verified_how="issuer"
    )
    data = qualification_form(staff_client, html_form, listing)
    data["qualifications-0-verified_on"] = ""
    assert staff_client.post(change_url(listing), {**data, "_save": "Save"}).status_code == 302
    cleared = listing.qualifications.get()
    assert (cleared.verified_on, cleared.verified_by) == (None, None)


def test_an_expiry_date_on_a_degree_is_a_form_error(staff_client, html_form, listing, days_ago):
    data = qualification_form(staff_client, html_form, listing)
    data.update({"qualifications-0-kind": "degree", "qualifications-0-expires_on": "2031-01-01"})
    response = staff_client.post(change_url(listing), {**data, "_save": "Save"})
    assert response.status_code == 200
    assert "Only a licence or registration has an expiry date here" in response.content.decode()
    assert listing.qualifications.get().kind == "licence"


def test_a_bad_date_is_a_form_error_not_a_500(staff_client, html_form, listing):
    data = qualification_form(staff_client, html_form, listing)
    data.update(
        {
            "qualifications-0-verified_on": "31/02/2026",
            "qualifications-0-expires_on": "soon",
            "qualifications-0-verified_how": "guessed",
            "qualifications-0-register_url": "not a link at all",
        }
    )
    response = staff_client.post(change_url(listing), {**data, "_save": "Save"})
    assert response.status_code == 200
    assert "Please correct the error" in response.content.decode()


def test_the_profile_shows_when_a_registration_runs_to(client, make_published_provider):
    provider = make_published_provider("Wren Abbott")
    Qualification.objects.filter(provider=provider).update(expires_on=datetime.date(2031, 3, 4))
    html = client.get(provider.get_absolute_url()).content.decode()
    assert "Registered until 4 March 2031." in html


# --------------------------------------------------------------------------- needs review


@pytest.fixture
def reviewable(make_published_provider, make_complete_provider, make_qualification, days_ago):
    """Listings checked recently, each of which may still need review for another reason."""

    def licensed(name, expires_on, kind="licence", **fields):
        provider = make_published_provider(name, last_verified=days_ago(20), **fields)
        Qualification.objects.filter(provider=provider).update(kind=kind, expires_on=expires_on)
        return provider

    return {
        "expired": licensed("Expired Licence", in_days(-3)),
        "expiring": licensed("Expiring Licence", in_days(20)),
        "later": licensed("Licence Expires Later", in_days(60)),
        "no_expiry": licensed("Licence Without Expiry", None),
        "draft_expired": make_complete_provider("Draft Expired", last_verified=days_ago(20)),
        "waiting": make_published_provider("Name Change Waiting", last_verified=days_ago(20)),
        "first": make_complete_provider("First Publication"),
    }


def waiting_change(provider, fact="name", **fields):
    return ProposedChange.objects.create(
        provider=provider,
        fact=fact,
        old_value={"name": [provider.name]} if fact == "name" else None,
        new_value={"name": ["A New Name"]} if fact == "name" else None,
        **fields,
    )


def review_names(response) -> set[str]:
    assert response.status_code == 200
    return {row.name for row in response.context["cl"].result_list}


def test_needs_review_adds_expiring_licences_and_waiting_changes(reviewable):
    Qualification.objects.filter(provider=reviewable["draft_expired"]).update(
        expires_on=in_days(-10)
    )
    waiting_change(reviewable["waiting"])
    waiting_change(reviewable["first"], fact="publication")
    # A decided change is not waiting.
    waiting_change(reviewable["later"], state=ProposedChange.State.REJECTED)
    assert set(Provider.objects.needs_review().values_list("name", flat=True)) == {
        "Expired Licence",
        "Expiring Licence",
        "Name Change Waiting",
        "First Publication",  # a draft: its first publication waits for staff
    }


def test_review_list_says_why_and_filters_by_reason(staff_client, reviewable):
    waiting_change(reviewable["waiting"])
    waiting_change(reviewable["waiting"], fact="kind")
    response = staff_client.get(REVIEW)
    assert review_names(response) == {"Expired Licence", "Expiring Licence", "Name Change Waiting"}
    html = response.content.decode()
    expired = reviewable["expired"].qualifications.get().expires_on
    assert f"licence expired {expired:%-d %b %Y}" in html
    assert f"licence expires {in_days(20):%-d %b %Y}" in html
    queue = reverse("admin:services_proposedchange_changelist")
    assert (
        f'<a href="{queue}?provider__id__exact={reviewable["waiting"].pk}">'
        "2 changes waiting for our check</a>"
    ) in html

    assert review_names(staff_client.get(REVIEW, {"why": "licence"})) == {
        "Expired Licence",
        "Expiring Licence",
    }
    assert review_names(staff_client.get(REVIEW, {"why": "changes"})) == {"Name Change Waiting"}
    assert review_names(staff_client.get(REVIEW, {"why": "reported"})) == set()
    for link in ["?why=changes", "?why=licence", "?why=reported", "?why=unchecked"]:
        assert link in html


def test_review_list_queries_do_not_grow_with_the_page(
    staff_client, reviewable, make_published_provider, django_assert_num_queries
):
    waiting_change(reviewable["waiting"])
    staff_client.get(REVIEW)  # session and permissions cached alike in both runs
    # session, user, the capped count, the page, why each is listed
    with django_assert_num_queries(5) as few:
        staff_client.get(REVIEW)
    for number in range(5):
        waiting_change(make_published_provider(f"More {number}", last_verified=None))
    with django_assert_num_queries(len(few.captured_queries)):
        response = staff_client.get(REVIEW)
    assert len(response.context["cl"].result_list) == 8


def test_admin_index_counts_changes_waiting(staff_client, reviewable):
    waiting_change(reviewable["waiting"])
    waiting_change(reviewable["first"], fact="publication")
    html = staff_client.get(reverse("admin:index")).content.decode()
    row = html.split("changes waiting for our check</a>", 1)[1].split("</tr>", 1)[0]
    assert "<td>2</td>" in row
    review_row = html.split("Listings needing review</a>", 1)[1].split("</tr>", 1)[0]
    assert "<td>4</td>" in review_row  # expired, expiring, the waiting name and publication
