"""Providers keep their own listings at /my-listing/: signing in by an emailed link, editing,
the facts that wait for staff, and the lock shared with the admin."""

import re
import time
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from reversion.models import Version

from services.models import (
    ListingManager,
    OutgoingEmail,
    ProposedChange,
    Provider,
    Qualification,
    Service,
    SupportType,
)
from services.my_listing import access, moderation
from services.my_listing.forms import ServiceForm

MY_LISTING = "/my-listing/"
LINK = re.compile(r"http://testserver(/my-listing/sign-in/[^/\s]+/)")


@pytest.fixture
def listing(make_published_provider):
    return make_published_provider("Hannah Reid Counselling", email="hannah@example.org")


def ask_for_link(client, email, address="198.51.100.1"):
    mail.outbox.clear()
    return client.post(MY_LISTING, {"email": email}, REMOTE_ADDR=address)


def link_in_mail() -> str:
    (message,) = mail.outbox
    return LINK.search(message.body)[1]


def signed_in(client, email):
    ask_for_link(client, email)
    response = client.post(link_in_mail())
    assert response.status_code == 302
    return client


def edit_url(provider, name="services:my_listing_edit", *args):
    return reverse(name, args=[provider.uuid, *args])


def listing_form(provider, **changes):
    provider.refresh_from_db()
    data = {
        "name": provider.name,
        "kind": provider.kind,
        "introduction": provider.introduction,
        "statement": provider.statement,
        "pronouns": provider.pronouns,
        "practising_since": provider.practising_since or "",
        "phone": provider.phone,
        "email": provider.email,
        "website": provider.website,
        "accepting_new_clients": "on" if provider.accepting_new_clients else "",
        "opened_at_version": provider.edit_version,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def service_form(service, **changes):
    data = moderation.instance_data(ServiceForm, service, service.provider)
    data["opened_at_version"] = [str(service.provider.edit_version)]
    for name, value in changes.items():
        data[name] = value if isinstance(value, list) else [value]
    return data


# --------------------------------------------------------------------------- signing in


def test_the_page_answers_the_same_whether_or_not_the_address_is_listed(client, listing):
    listed = ask_for_link(client, "hannah@example.org")
    assert len(mail.outbox) == 1
    unknown = ask_for_link(client, "nobody@example.org", address="198.51.100.2")
    assert mail.outbox == []
    assert listed.status_code == unknown.status_code == 200

    def strip(response, email):
        page = response.content.decode()
        return page.replace(email, "EMAIL").replace(email.replace("@", "%40"), "EMAIL")

    assert strip(listed, "hannah@example.org") == strip(unknown, "nobody@example.org")


def test_the_link_goes_through_the_outbox_and_says_why(client, listing):
    ask_for_link(client, " Hannah@Example.ORG")
    email = OutgoingEmail.objects.get(purpose=OutgoingEmail.Purpose.SIGN_IN)
    assert email.to == "hannah@example.org"
    assert "15 minutes" in email.body and "We sent this because" in email.body


def test_a_link_signs_in_once(client, listing):
    ask_for_link(client, "hannah@example.org")
    link = link_in_mail()
    # Opening it (as a mail scanner would) does not use it up.
    assert client.get(link).status_code == 200
    response = client.post(link)
    assert response["Location"] == MY_LISTING
    assert client.get(MY_LISTING)["Location"] == edit_url(listing)
    client.logout()
    again = client.post(link)
    assert again.status_code == 400
    assert "does not work" in again.content.decode()


def test_an_expired_link_is_refused(client, listing, monkeypatch):
    ask_for_link(client, "hannah@example.org")
    link = link_in_mail()
    later = time.time() + 16 * 60
    monkeypatch.setattr("sesame.tokens_v2.time", SimpleNamespace(time=lambda: later))
    assert client.post(link).status_code == 400
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("token", ["forged", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"])
def test_a_forged_link_is_refused(client, listing, token):
    response = client.post(reverse("services:my_listing_sign_in", args=[token]))
    assert response.status_code == 400


def test_staff_never_sign_in_by_link(client, listing, staff_user):
    ask_for_link(client, staff_user.email)
    assert mail.outbox == []


def test_links_are_limited_per_address_asked_about(client, listing, settings):
    settings.FORM_RATE_LIMIT = 2
    for n in range(2):
        assert (
            ask_for_link(client, "hannah@example.org", address=f"198.51.100.{n}").status_code == 200
        )
    refused = ask_for_link(client, "hannah@example.org", address="198.51.100.9")
    assert refused.status_code == 429
    assert mail.outbox == []
    assert 'value="hannah@example.org"' in refused.content.decode()


def test_links_are_limited_per_connection(client, listing, settings):
    settings.FORM_RATE_LIMIT = 2
    for n in range(2):
        ask_for_link(client, f"someone{n}@example.org")
    assert ask_for_link(client, "hannah@example.org").status_code == 429


def test_a_bad_address_gets_a_message(client, listing):
    response = client.post(MY_LISTING, {"email": "not an address"})
    assert response.status_code == 400
    assert "Enter a valid email address" in response.content.decode()


# --------------------------------------------------------------------------- managers


def test_staff_invite_someone_and_they_sign_in(client, listing, staff_user):
    access.manager_invite(provider=listing, email="office@example.org", by=staff_user)
    invitation = OutgoingEmail.objects.get(purpose=OutgoingEmail.Purpose.INVITATION)
    assert invitation.to == "office@example.org" and "/my-listing/" in invitation.body
    signed_in(client, "office@example.org")
    assert client.get(edit_url(listing)).status_code == 200


def test_one_person_may_manage_several_listings(
    client, listing, make_published_provider, staff_user
):
    make_published_provider("Leeds Grief Group", email="hannah@example.org")
    signed_in(client, "hannah@example.org")
    page = client.get(MY_LISTING).content.decode()
    assert "Hannah Reid Counselling" in page and "Leeds Grief Group" in page


def test_revoked_access_ends_and_is_not_claimed_again(client, listing, staff_user):
    signed_in(client, "hannah@example.org")
    manager = ListingManager.objects.get(provider=listing)
    access.manager_revoke(manager=manager, by=staff_user)
    assert client.get(edit_url(listing)).status_code == 403
    ask_for_link(client, "hannah@example.org")
    assert mail.outbox == []


def test_someone_elses_listing_is_refused(client, listing, make_published_provider):
    other = make_published_provider("Another Practice", email="other@example.org")
    signed_in(client, "hannah@example.org")
    response = client.get(edit_url(other))
    assert response.status_code == 403
    response = client.post(edit_url(other), listing_form(other, name="Mine now"))
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.name == "Another Practice"


def test_signing_in_is_needed(client, listing):
    assert client.get(edit_url(listing))["Location"] == MY_LISTING


# --------------------------------------------------------------------------- editing


def test_a_fee_change_goes_live_in_the_history_under_their_name(client, listing):
    signed_in(client, "hannah@example.org")
    service = listing.services.get()
    response = client.post(
        edit_url(listing, "services:my_listing_service", service.uuid),
        service_form(service, fee_min="35", fee_max="45"),
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert (service.fee_min, service.fee_max) == (Decimal("35"), Decimal("45"))
    listing.refresh_from_db()
    assert listing.card["services"][0]["fee_min"] == "35.00"
    version = Version.objects.get_for_object(listing).first()
    assert version.revision.user.email == "hannah@example.org"
    assert "by the provider" in version.revision.comment


def test_taking_new_clients_and_the_introduction_go_live(client, listing):
    signed_in(client, "hannah@example.org")
    response = client.post(
        edit_url(listing),
        listing_form(
            listing, accepting_new_clients="", introduction="I work gently, at your pace."
        ),
    )
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.accepting_new_clients is False
    assert listing.introduction == "I work gently, at your pace."
    page = client.get(edit_url(listing)).content.decode()
    assert "Saved. Your changes are live." in page


def test_a_new_name_waits_for_staff_and_the_rest_goes_live(client, listing, staff_user):
    signed_in(client, "hannah@example.org")
    client.post(edit_url(listing), listing_form(listing, name="Hannah Reid", pronouns="she/her"))
    listing.refresh_from_db()
    assert listing.name == "Hannah Reid Counselling"
    assert listing.pronouns == "she/her"
    change = ProposedChange.objects.get(provider=listing, fact="name")
    assert change.state == "waiting"
    page = client.get(edit_url(listing)).content.decode()
    assert "Waiting for our check" in page and "Hannah Reid" in page
    assert "Your other changes are live; we will check the name before showing it." in page

    mail.outbox.clear()
    moderation.change_approve(change=change, by=staff_user, note="Checked with BACP.")
    listing.refresh_from_db()
    assert listing.name == "Hannah Reid"
    (email,) = mail.outbox
    assert email.to == ["hannah@example.org"] and "Checked with BACP." in email.body
    page = client.get(edit_url(listing)).content.decode()
    assert "What we decided" in page and "Checked with BACP." in page


def test_a_rejection_needs_a_note_which_the_provider_sees(client, listing, staff_user):
    signed_in(client, "hannah@example.org")
    client.post(edit_url(listing), listing_form(listing, kind="organisation"))
    change = ProposedChange.objects.get(provider=listing, fact="kind")
    with pytest.raises(Exception, match="note"):
        moderation.change_reject(change=change, by=staff_user, note=" ")
    moderation.change_reject(change=change, by=staff_user, note="You work on your own.")
    listing.refresh_from_db()
    assert listing.kind == "individual"
    assert "You work on your own." in client.get(edit_url(listing)).content.decode()
    with pytest.raises(Exception, match="already"):
        moderation.change_approve(change=change, by=staff_user)


def test_a_qualification_waits_and_staff_approve_it(client, listing, staff_user):
    signed_in(client, "hannah@example.org")
    response = client.post(
        edit_url(listing, "services:my_listing_qualification_new"),
        {
            "kind": "licence",
            "title": "Registered Member MBACP (Accred)",
            "issuer": "BACP",
            "number": "123456",
            "year": "2015",
        },
    )
    assert response.status_code == 302
    assert not Qualification.objects.filter(provider=listing, number="123456").exists()
    change = ProposedChange.objects.get(provider=listing, fact="qualification")
    rows = dict((label, new) for label, _old, new in moderation.change_rows(change))
    assert rows["Registration or licence number"] == "123456"
    assert rows["Kind"] == "Licence or registration"
    moderation.change_approve(change=change, by=staff_user)
    assert Qualification.objects.get(provider=listing, number="123456").verified_on is None


def test_a_new_service_waits_and_is_added_when_approved(client, listing, staff_user, make_term):
    groups = make_term(SupportType, "Support groups")
    signed_in(client, "hannah@example.org")
    response = client.post(
        edit_url(listing, "services:my_listing_service_new"),
        {
            "support_type": groups.pk,
            "name": "Grief group",
            "term": "either",
            "offers_online": "on",
            "for_groups": "on",
            "is_free": "on",
            "opened_at_version": listing.edit_version,
        },
    )
    assert response.status_code == 302, response.content.decode()
    assert listing.services.count() == 1
    change = ProposedChange.objects.get(provider=listing, fact="service")
    moderation.change_approve(change=change, by=staff_user)
    added = listing.services.get(name="Grief group")
    assert added.support_type == groups and added.is_free and added.offers_online


def test_a_new_kind_of_support_waits_but_the_fee_does_not(client, listing, staff_user, make_term):
    art = make_term(SupportType, "Art therapy")
    signed_in(client, "hannah@example.org")
    service = listing.services.get()
    counselling = service.support_type
    client.post(
        edit_url(listing, "services:my_listing_service", service.uuid),
        service_form(service, support_type=str(art.pk), fee_max="70"),
    )
    service.refresh_from_db()
    assert service.support_type == counselling and service.fee_max == Decimal("70")
    change = ProposedChange.objects.get(provider=listing, fact="support_type")
    moderation.change_approve(change=change, by=staff_user)
    service.refresh_from_db()
    assert service.support_type == art and service.fee_max == Decimal("70")


def test_a_first_publication_waits_for_staff(client, make_complete_provider, staff_user):
    draft = make_complete_provider("New Practice", email="new@example.org")
    signed_in(client, "new@example.org")
    client.post(edit_url(draft, "services:my_listing_publish"))
    draft.refresh_from_db()
    assert draft.status == Provider.Status.DRAFT
    change = ProposedChange.objects.get(provider=draft, fact="publication")
    moderation.change_approve(change=change, by=staff_user)
    draft.refresh_from_db()
    assert draft.status == Provider.Status.PUBLISHED


def test_a_provider_may_withdraw_a_waiting_change(client, listing):
    signed_in(client, "hannah@example.org")
    client.post(edit_url(listing), listing_form(listing, name="Someone Else"))
    change = ProposedChange.objects.get(provider=listing)
    client.post(edit_url(listing, "services:my_listing_withdraw", change.pk))
    change.refresh_from_db()
    assert change.state == "withdrawn"


def test_a_save_over_a_newer_edit_is_refused_and_keeps_what_was_typed(client, listing):
    signed_in(client, "hannah@example.org")
    opened = listing_form(listing, statement="What I typed carefully.")
    # Staff (or another manager) save in between.
    listing.refresh_from_db()
    listing.edit_version += 1
    listing.save(update_fields=["edit_version"])
    response = client.post(edit_url(listing), opened)
    assert response.status_code == 409
    page = response.content.decode()
    assert "What I typed carefully." in page and "Someone else saved this listing" in page
    listing.refresh_from_db()
    assert listing.statement != "What I typed carefully."
    # Saving again, having looked, is taken as meant.
    again = client.post(edit_url(listing), {**opened, "opened_at_version": listing.edit_version})
    assert again.status_code == 302


@pytest.mark.parametrize("field", ["statement", "introduction", "pronouns"])
def test_html_is_refused_with_a_message(client, listing, field):
    signed_in(client, "hannah@example.org")
    response = client.post(
        edit_url(listing), listing_form(listing, **{field: 'Hi <script>alert("x")</script>'})
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "without HTML" in page
    assert "&lt;script&gt;" in page  # kept, and escaped


def test_the_last_service_of_a_published_listing_stays(client, listing):
    signed_in(client, "hannah@example.org")
    service = listing.services.get()
    response = client.post(edit_url(listing, "services:my_listing_service_remove", service.uuid))
    assert response.status_code == 302
    assert Service.objects.filter(pk=service.pk).exists()
    assert "at least one service" in client.get(edit_url(listing)).content.decode()


def test_a_place_with_an_unknown_postcode_gets_a_message(client, listing):
    signed_in(client, "hannah@example.org")
    place = listing.locations.get()
    data = {
        "name": place.name,
        "address_line1": place.address_line1,
        "town": place.town,
        "postcode": "ZZ99 9ZZ",
        "wheelchair_access": place.wheelchair_access,
        "address_shown": place.address_shown,
        "opened_at_version": listing.edit_version,
    }
    response = client.post(edit_url(listing, "services:my_listing_place", place.uuid), data)
    assert response.status_code == 400
    assert "We do not know this postcode" in response.content.decode()
    data["postcode"] = "M20 2AB"
    response = client.post(edit_url(listing, "services:my_listing_place", place.uuid), data)
    assert response.status_code == 302, response.context["form"].errors
    place.refresh_from_db()
    assert place.postcode == "M20 2AB" and 53.3 < place.latitude < 53.5


def test_the_website_field_is_a_real_field_here(client, listing):
    # The public forms' hidden spam trap is also called "website"; a listing's is real.
    signed_in(client, "hannah@example.org")
    page = client.get(edit_url(listing)).content.decode()
    assert "Leave this empty" not in page
    assert 'name="website"' in page


def test_approving_a_change_to_something_since_removed_says_so(client, listing, staff_user):
    signed_in(client, "hannah@example.org")
    qualification = listing.qualifications.get()
    client.post(
        edit_url(listing, "services:my_listing_qualification", qualification.pk),
        {"kind": "licence", "title": "Registered member", "issuer": "BACP", "number": "777"},
    )
    change = ProposedChange.objects.get(provider=listing, fact="qualification")
    qualification.delete()
    with pytest.raises(ValidationError, match="has been removed since"):
        moderation.change_approve(change=change, by=staff_user)
    change.refresh_from_db()
    assert change.state == "waiting"


def test_the_page_words_its_changes_with_the_same_queries_however_many(client, listing, make_term):
    """Each form and each list of choices (kinds of support, places) is read once a page."""
    counselling = make_term(SupportType, "Counselling")
    signed_in(client, "hannah@example.org")

    def decided(count):
        for number in range(count):
            ProposedChange.objects.create(
                provider=listing,
                fact=ProposedChange.Fact.SERVICE,
                state=ProposedChange.State.REJECTED,
                new_value={"support_type": [str(counselling.pk)], "name": [f"Group {number}"]},
            )

    def queries():
        with CaptureQueriesContext(connection) as captured:
            page = client.get(edit_url(listing))
        assert page.status_code == 200 and b"Counselling" in page.content
        return len(captured)

    decided(1)
    one = queries()
    decided(4)
    assert queries() == one
