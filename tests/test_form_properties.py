"""Hostile input to the public forms: never a 500; an invalid post stores nothing and keeps
what was typed; a valid one stores exactly what was sent; nothing stored holds control
characters or overlong text."""

import unicodedata

import pytest
from django.core import mail
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.forms import EnquiryForm, RecommendationForm, ReportForm
from services.models import Enquiry, OutgoingEmail, Recommendation, Report

pytestmark = pytest.mark.django_db

MISSING = object()

HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "<script>alert(1)</script>",
    "'; DROP TABLE services_provider; --",
    "Sam\r\nBcc: everyone@example.org",
    "\u202egnp.exe",
    "\ufeffhidden",
    "😀" * 40,
    "x" * 3100,
    "a@b",
    "@example.org",
    "sam@example.org\nCc: x@example.org",
    "1" * 45,
    "javascript:alert(1)",
    "{{ request.user }}{% debug %}",
    "\t",
    "é" * 120,
]

VALID = {
    "name": ["Sam", "Dr A. Patel", "Zoë O'Neill"],
    "email": ["sam@example.org", "zoe.oneill@example.org", ""],
    "phone": ["07700 900123", "+44 (0)113 496 0000", ""],
    "preferred_contact": ["email", "phone"],
    "message": ["Hello.\nCould we talk on Tuesday?", "I would like help with grief."],
    "relationship": ["referrer", "colleague", "former_client"],
    "author_name": ["Jo", "Dr A. Patel"],
    "author_role": ["GP, Leeds", ""],
    "author_email": ["jo@example.org"],
    "text": ["Kind and careful.", "Reliable.\n\nI would recommend them."],
    "consents_to_publication": ["on", ""],
    "consents_to_processing": ["on"],
    "wants_follow_up": ["on", ""],
    "problem": ["phone", "not_taking", "moved", "closed", "other"],
    "details": ["", "The number does not work."],
    "reporter_email": ["", "me@example.org"],
}

FORMS = {
    "provider_contact": (EnquiryForm, Enquiry),
    "provider_recommend": (RecommendationForm, Recommendation),
    "provider_report": (ReportForm, Report),
}


def field_value(name):
    one = st.one_of(
        st.sampled_from(VALID[name]),
        st.sampled_from(HOSTILE),
        st.text(max_size=200),  # any unicode, control characters included
    )
    return st.one_of(one, one, one, st.lists(one, min_size=2, max_size=3), st.just(MISSING))


def post_data(form_class):
    fields = [f for f in form_class.Meta.fields]
    values = {name: field_value(name) for name in fields}
    values["website"] = st.one_of(st.just(MISSING), st.just(MISSING), st.sampled_from(["", "x"]))
    return st.fixed_dictionaries(values).map(
        lambda data: {k: v for k, v in data.items() if v is not MISSING}
    )


def clean_text(value: str, multiline: bool) -> bool:
    allowed = "\n\r\t" if multiline else ""
    return not any(
        unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in allowed for c in value
    )


MULTILINE = {"message", "text", "details"}


def assert_stored_row_is_clean(row, form_class):
    for name in form_class.Meta.fields:
        value = getattr(row, name)
        if isinstance(value, str):
            assert clean_text(value, name in MULTILINE), (name, value)
            assert len(value) <= 3000, name


def check(client, provider, route, data):
    form_class, model = FORMS[route]
    rows_before = model.objects.count()
    mail_before = len(mail.outbox)
    response = client.post(reverse(f"services:{route}", args=[provider.slug]), data)
    assert response.status_code in (302, 400), response.status_code  # never a 500

    # The oracle: the form as a browser would send it (the last of repeated values).
    flat = {k: (v[-1] if isinstance(v, list) else v) for k, v in data.items()}
    expected = form_class(flat)
    valid = expected.is_valid()
    spam = valid and expected.is_spam()
    if not valid:
        assert response.status_code == 400
        assert model.objects.count() == rows_before
        assert len(mail.outbox) == mail_before
        form = response.context["form"]
        for name, value in flat.items():
            if name in form.fields and form_class is not None and isinstance(value, str):
                if name in ("consents_to_publication", "consents_to_processing", "wants_follow_up"):
                    continue
                assert form[name].value() == value, name  # what was typed stays
        return
    assert response.status_code == 302
    if spam:
        assert model.objects.count() == rows_before
        assert len(mail.outbox) == mail_before
        return
    assert model.objects.count() == rows_before + 1
    row = model.objects.order_by("-pk").first()
    for name, value in expected.submitted().items():
        assert getattr(row, name) == value, name  # stored exactly as validated
    assert_stored_row_is_clean(row, form_class)
    if model is Enquiry:
        assert len(mail.outbox) == mail_before + 1
        assert row.email_to_provider.state == OutgoingEmail.State.SENT


@pytest.fixture
def provider(make_published_provider):
    return make_published_provider("Hostile Input", email="hostile@example.org")


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.FORM_RATE_LIMIT = 10**9


PROPERTY_SETTINGS = settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(data=post_data(EnquiryForm))
def test_enquiry_form_with_hostile_input(client, provider, data):
    check(client, provider, "provider_contact", data)


@PROPERTY_SETTINGS
@given(data=post_data(RecommendationForm))
def test_recommendation_form_with_hostile_input(client, provider, data):
    check(client, provider, "provider_recommend", data)


@PROPERTY_SETTINGS
@given(data=post_data(ReportForm))
def test_report_form_with_hostile_input(client, provider, data):
    check(client, provider, "provider_report", data)


def test_the_strategies_reach_both_outcomes():
    """A property test that only ever sent invalid posts would prove little."""
    from hypothesis import find

    for form_class in (EnquiryForm, RecommendationForm, ReportForm):
        find(post_data(form_class), lambda d, f=form_class: f(d).is_valid())
        find(post_data(form_class), lambda d, f=form_class: not f(d).is_valid())
