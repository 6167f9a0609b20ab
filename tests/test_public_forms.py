"""The public's forms: contact a provider, recommend one, report a wrong listing."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from services.models import Enquiry, OutgoingEmail, Provider, Recommendation, Report

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(make_published_provider):
    return make_published_provider("Aster Quill", email="aster@example.org")


def url(name, provider):
    return reverse(f"services:{name}", kwargs={"slug": provider.slug})


ENQUIRY = {
    "name": "Sam Reader",
    "email": "sam@example.org",
    "phone": "",
    "preferred_contact": "email",
    "message": "Hello, I would like to talk about grief.\nI am free on Tuesdays.",
    "consents_to_processing": "on",
}
RECOMMENDATION = {
    "relationship": "colleague",
    "author_name": "Dr A. Patel",
    "author_role": "GP, Leeds",
    "author_email": "a.patel@example.org",
    "text": "Careful, kind and reliable.",
    "consents_to_publication": "on",
}
REPORT = {"problem": "moved", "details": "", "reporter_email": ""}


# --------------------------------------------------------------------------- pages


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("provider_contact", "<h1>Contact Aster Quill</h1>"),
        ("provider_recommend", "<h1>Recommend Aster Quill</h1>"),
        ("provider_report", "<h1>Report a problem with this listing</h1>"),
    ],
)
def test_form_pages_in_one_query_with_a_csrf_cookie_and_no_session(
    client, django_assert_num_queries, provider, name, heading
):
    with django_assert_num_queries(1):
        response = client.get(url(name, provider))
    assert response.status_code == 200
    html = response.content.decode()
    assert heading in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'class="honeypot"' in html
    assert set(response.cookies) == {"csrftoken"}


@pytest.mark.parametrize(
    "name", ["provider_contact_sent", "provider_recommend_thanks", "provider_report_thanks"]
)
def test_what_happens_next_pages(client, django_assert_num_queries, provider, name):
    with django_assert_num_queries(1):
        response = client.get(url(name, provider))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h2>What happens next</h2>" in html
    assert not response.cookies


def test_contact_confirmation_repeats_the_crisis_line(client, provider, settings):
    settings.CRISIS_LINE = {
        "text": "Need help now? Call the Example Line.",
        "phone": "0800 000 000",
    }
    html = client.get(url("provider_contact_sent", provider)).content.decode()
    main = html.split("<main", 1)[1]
    assert "If you need help now" in main
    assert "Need help now? Call the Example Line." in main
    assert '<a href="tel:0800000000">Call 0800 000 000</a>' in main


def test_profile_links_to_the_forms_and_starts_no_session(client, provider):
    response = client.get(provider.get_absolute_url())
    html = response.content.decode()
    assert f'href="{url("provider_contact", provider)}">Send Aster Quill a message</a>' in html
    assert f'href="{url("provider_recommend", provider)}">Recommend Aster Quill</a>' in html
    assert (
        f'href="{url("provider_report", provider)}">Report a problem with this listing</a>' in html
    )
    # Only the CSRF cookie, for the "Save" form's token: no session until something is saved.
    assert set(response.cookies) == {"csrftoken"}


def test_no_contact_form_for_a_listing_without_email(client, make_published_provider):
    provider = make_published_provider("Phone Only", email="")
    assert (
        "Send Phone Only a message" not in client.get(provider.get_absolute_url()).content.decode()
    )
    assert client.get(url("provider_contact", provider)).status_code == 404
    # Recommending and reporting do not need an email address.
    assert client.get(url("provider_report", provider)).status_code == 200


@pytest.mark.parametrize("status", [Provider.Status.DRAFT, Provider.Status.ARCHIVED])
@pytest.mark.parametrize("name", ["provider_contact", "provider_recommend", "provider_report"])
def test_forms_of_unpublished_listings_do_not_exist(client, make_complete_provider, status, name):
    provider = make_complete_provider("Not Public", status=status)
    assert client.get(url(name, provider)).status_code == 404
    assert client.post(url(name, provider), ENQUIRY).status_code == 404


# --------------------------------------------------------------------------- contact


def test_an_enquiry_is_stored_then_emailed(client, provider):
    response = client.post(url("provider_contact", provider), ENQUIRY)
    assert response.status_code == 302
    assert response["Location"] == url("provider_contact_sent", provider)
    enquiry = Enquiry.objects.select_related("email_to_provider").get()
    assert enquiry.provider == provider
    assert enquiry.message == ENQUIRY["message"]
    # Sent by the background task (run at once in the tests).
    sent = enquiry.email_to_provider
    assert (sent.state, sent.attempts, sent.to) == ("sent", 1, "aster@example.org")
    assert sent.sent_at is not None
    [email] = mail.outbox
    assert email.to == ["aster@example.org"]
    assert email.reply_to == ["sam@example.org"]
    assert email.subject == "A message from Sam Reader through Find Therapeutic Support"
    assert "I am free on Tuesdays." in email.body
    assert "How they would like you to reply: email" in email.body
    assert "sessionid" not in response.cookies


def test_a_failed_send_keeps_the_enquiry_and_still_confirms(client, provider, monkeypatch):
    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    response = client.post(url("provider_contact", provider), ENQUIRY)
    assert response.status_code == 302
    enquiry = Enquiry.objects.select_related("email_to_provider").get()
    assert enquiry.email_to_provider.state == OutgoingEmail.State.FAILED
    assert enquiry.email_to_provider.attempts == 1
    assert "the mail server is down" in enquiry.email_to_provider.last_error
    assert enquiry.message == ENQUIRY["message"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "", "phone": ""}, "email", "Give an email address or a phone number"),
        ({"email": "", "phone": "07700 900123"}, "email", "You chose email for the reply"),
        ({"preferred_contact": "phone"}, "phone", "You chose a phone call for the reply"),
        ({"phone": "call me maybe"}, "phone", "Enter a phone number in digits"),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"message": ""}, "message", "Write your message."),
        ({"message": "x" * 3001}, "message", "at most 3000 characters"),
        ({"name": "Sam\nBcc: everyone@example.org"}, "name", "Please keep this to one line."),
        ({"name": "Sam\x07"}, "name", "invisible control characters"),
        ({"consents_to_processing": ""}, "consents_to_processing", "with your agreement"),
    ],
)
def test_a_form_error_keeps_what_the_person_wrote(client, provider, changes, field, message):
    data = {**ENQUIRY, **changes}
    response = client.post(url("provider_contact", provider), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please check the form" in html
    assert message in html
    assert f'id="id_{field}_error"' in html
    form = response.context["form"]
    for name, value in data.items():
        typed = bool(value) if name == "consents_to_processing" else value  # a checkbox
        assert form[name].value() == typed  # everything typed is still there
    assert "I am free on Tuesdays." in html or "message" in changes
    assert not Enquiry.objects.exists()
    assert not mail.outbox


def test_the_honeypot_stores_and_sends_nothing(client, provider):
    response = client.post(
        url("provider_contact", provider), {**ENQUIRY, "website": "spam.example"}
    )
    assert response.status_code == 302  # a bot learns nothing
    assert not Enquiry.objects.exists()
    assert not mail.outbox


# --------------------------------------------------------------------------- recommend, report


def test_a_recommendation_is_stored_hidden(client, provider):
    response = client.post(url("provider_recommend", provider), RECOMMENDATION)
    assert response.status_code == 302
    assert response["Location"] == url("provider_recommend_thanks", provider)
    recommendation = Recommendation.objects.get()
    assert recommendation.status == Recommendation.Status.PENDING
    assert recommendation.author_name == "Dr A. Patel"
    assert recommendation.consents_to_publication
    html = client.get(provider.get_absolute_url()).content.decode()
    assert "Careful, kind and reliable." not in html
    assert "No recommendations yet." in html


def test_a_recommendation_needs_consent(client, provider):
    data = {**RECOMMENDATION}
    del data["consents_to_publication"]
    response = client.post(url("provider_recommend", provider), data)
    assert response.status_code == 400
    assert "We can only show a recommendation with your agreement" in response.content.decode()
    assert response.context["form"]["text"].value() == "Careful, kind and reliable."
    assert not Recommendation.objects.exists()


def test_a_report_goes_to_the_queue(client, provider):
    response = client.post(url("provider_report", provider), REPORT)
    assert response.status_code == 302
    assert response["Location"] == url("provider_report_thanks", provider)
    report = Report.objects.get()
    assert (report.provider, report.problem, report.status) == (provider, "moved", "open")


def test_something_else_must_be_explained(client, provider):
    response = client.post(url("provider_report", provider), {**REPORT, "problem": "other"})
    assert response.status_code == 400
    assert "Tell us what is wrong with the listing." in response.content.decode()
    assert not Report.objects.exists()


# --------------------------------------------------------------------------- abuse control


@pytest.mark.parametrize(
    ("name", "data", "model"),
    [
        ("provider_contact", ENQUIRY, Enquiry),
        ("provider_recommend", RECOMMENDATION, Recommendation),
        ("provider_report", REPORT, Report),
    ],
)
def test_the_rate_limit_refuses_an_address_and_keeps_the_text(
    client, provider, settings, name, data, model
):
    settings.FORM_RATE_LIMIT = 3
    for _ in range(3):
        assert client.post(url(name, provider), data).status_code == 302
    refused = client.post(url(name, provider), data)
    assert refused.status_code == 429
    html = refused.content.decode()
    assert "Too many" in html
    form = refused.context["form"]
    for field, value in data.items():
        assert form[field].value() in (value, True)
    assert model.objects.count() == 3
    # Another address is not held back by this one.
    other = Client(REMOTE_ADDR="192.0.2.44")
    assert other.post(url(name, provider), data).status_code == 302
    assert model.objects.count() == 4


def test_invalid_posts_do_not_use_up_the_limit(client, provider, settings):
    settings.FORM_RATE_LIMIT = 1
    for _ in range(3):
        assert client.post(url("provider_report", provider), {"problem": ""}).status_code == 400
    assert client.post(url("provider_report", provider), REPORT).status_code == 302


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("provider_contact", ENQUIRY),
        ("provider_recommend", RECOMMENDATION),
        ("provider_report", REPORT),
    ],
)
def test_every_form_needs_the_csrf_token(provider, name, data):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(url(name, provider), data).status_code == 403
    assert not Enquiry.objects.exists()
    assert not Recommendation.objects.exists()
    assert not Report.objects.exists()
    # With the token from the form page, the same post goes through.
    page = strict.get(url(name, provider))
    token = page.context["csrf_token"]
    assert (
        strict.post(url(name, provider), {**data, "csrfmiddlewaretoken": token}).status_code == 302
    )


@pytest.mark.parametrize(
    "name", ["provider_contact_sent", "provider_recommend_thanks", "provider_report_thanks"]
)
def test_confirmation_pages_refuse_posts(client, provider, name):
    assert client.post(url(name, provider), ENQUIRY).status_code == 405
