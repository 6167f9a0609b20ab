"""Listings that do not lead nowhere: availability that lapses unless confirmed, and enquiries
whose answers are tracked. The clock is moved by passing `today` and `now`, never waited on."""

import datetime
import io
import time
from urllib.parse import urlparse

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from services.enquiries import enquiry_submit
from services.models import Enquiry, OutgoingEmail, Provider
from services.upkeep import availability, links, replies

DAY = datetime.timedelta(days=1)


def _path(url: str) -> str:
    return urlparse(url).path


def _links_in(body: str) -> list[str]:
    return [line.strip() for line in body.splitlines() if "/my-listing/" in line]


# Availability ---------------------------------------------------------------------------


@pytest.fixture
def taking(make_listing):
    """A listing taking new clients, confirmed today."""
    return make_listing(
        "Birch Counselling", accepting_confirmed_on=timezone.localdate(), wait_weeks=2
    )


def _reminded(provider, confirmed_days_ago=31):
    """Remind the listing today, as last confirmed so long ago; the day and the links."""
    today = timezone.localdate()
    Provider.objects.filter(pk=provider.pk).update(
        accepting_confirmed_on=today - confirmed_days_ago * DAY
    )
    assert availability.availability_remind(today=today) == 1
    email = OutgoingEmail.objects.get(purpose=OutgoingEmail.Purpose.AVAILABILITY)
    yes, no, update = _links_in(email.body)
    return today, {"yes": yes, "no": no, "update": update}


def test_a_listing_is_reminded_a_month_after_it_was_confirmed_and_only_once(taking, settings):
    settings.AVAILABILITY_CONFIRM_DAYS = 30
    today = timezone.localdate()
    assert availability.availability_remind(today=today + 29 * DAY) == 0
    assert availability.availability_remind(today=today + 30 * DAY) == 1
    assert availability.availability_remind(today=today + 31 * DAY) == 0  # run again: nothing
    email = OutgoingEmail.objects.get()
    assert email.to == taking.email and "still taking new clients" in email.body.lower()
    assert "about 2 weeks" in email.body
    assert [_path(url).rsplit("/", 2)[-2] for url in _links_in(email.body)] == [
        "yes",
        "no",
        "update",
    ]
    assert len(mail.outbox) == 1  # the worker sent it (tasks run at once in tests)


def test_who_is_not_reminded(make_published_provider, make_complete_provider):
    old = timezone.localdate() - 100 * DAY
    make_published_provider("Not taking", accepting_new_clients=False, accepting_confirmed_on=old)
    make_published_provider("No email", email="", accepting_confirmed_on=old)
    make_complete_provider("A draft", accepting_confirmed_on=old)
    assert availability.availability_remind() == 0


def test_unanswered_the_listing_lapses_after_the_grace_period(taking, settings):
    settings.AVAILABILITY_GRACE_DAYS = 14
    reminded, _ = _reminded(taking)
    assert availability.availability_lapse(today=reminded + 13 * DAY) == 0
    assert availability.availability_lapse(today=reminded + 14 * DAY) == 1
    assert availability.availability_lapse(today=reminded + 15 * DAY) == 0  # run again: nothing
    taking.refresh_from_db()
    assert taking.availability_lapsed and taking.accepting_new_clients
    assert not taking.accepting_now
    assert not Provider.objects.filter(accepting_now=True, pk=taking.pk).exists()


def test_a_listing_without_email_lapses_a_grace_period_after_it_was_due(make_published_provider):
    confirmed = timezone.localdate()
    provider = make_published_provider("Phone only", email="", accepting_confirmed_on=confirmed)
    # As a reminded listing would: reminded 30 days on, lapsed 14 after that.
    assert availability.availability_lapse(today=confirmed + 43 * DAY) == 0
    assert availability.availability_lapse(today=confirmed + 44 * DAY) == 1
    provider.refresh_from_db()
    assert provider.availability_lapsed


def test_the_yes_link_asks_first_then_confirms_and_ends_a_lapse_and_a_pause(taking, client):
    reminded, url = _reminded(taking)
    availability.availability_lapse(today=reminded + 30 * DAY)
    Provider.objects.filter(pk=taking.pk).update(paused_for_replies_at=timezone.now())
    page = client.get(_path(url["yes"]))
    assert page.status_code == 200 and b"Yes, I am taking new clients" in page.content
    taking.refresh_from_db()
    assert taking.availability_lapsed  # following the link changed nothing
    done = client.post(_path(url["yes"]))
    assert done.status_code == 200 and b"now says you are taking new clients" in done.content
    taking.refresh_from_db()
    assert taking.accepting_confirmed_on == timezone.localdate()
    assert not taking.availability_lapsed and taking.paused_for_replies_at is None
    assert taking.accepting_now
    version = taking.edit_version
    again = client.post(_path(url["yes"]))
    assert b"You had already told us today" in again.content
    taking.refresh_from_db()
    assert taking.edit_version == version  # a second click changed nothing


def test_the_no_link_says_not_taking(taking, client):
    _, url = _reminded(taking)
    client.post(_path(url["no"]))
    taking.refresh_from_db()
    assert not taking.accepting_new_clients
    assert taking.accepting_confirmed_on == timezone.localdate()


def test_the_update_link_opens_the_listing_until_availability_is_confirmed(taking, client):
    _, url = _reminded(taking)
    opened = client.post(_path(url["update"]))
    assert opened.status_code == 302
    assert opened["Location"] == reverse("services:my_listing_edit", args=[taking.uuid])
    assert client.get(opened["Location"]).status_code == 200
    client.logout()
    client.post(_path(url["yes"]))
    assert client.post(_path(url["update"])).status_code == 400
    assert client.get(_path(url["update"])).status_code == 400


def test_forged_old_and_mismatched_links_change_nothing(taking, client, monkeypatch):
    _, url = _reminded(taking)
    token = _path(url["yes"]).split("/")[-3]
    forged = _path(url["yes"]).replace(token, token[:-2] + "xx")
    assert client.post(forged).status_code == 400
    # A link from before the last reminder would have been due.
    long_ago = time.time() - 45 * 86400
    monkeypatch.setattr(
        signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(int(long_ago))
    )
    old = links.token_make(availability.KIND, taking.pk, taking.email, str(timezone.localdate()))
    monkeypatch.undo()
    old_url = reverse("services:availability_answer", args=[old, "yes"])
    page = client.post(old_url)
    assert page.status_code == 400 and b"This link does not work" in page.content
    # The listing's address changed since the reminder.
    Provider.objects.filter(pk=taking.pk).update(email="new@example.org")
    assert client.post(_path(url["yes"])).status_code == 400
    # An enquiry's link is not an availability link.
    assert (
        client.post(reverse("services:availability_answer", args=[token, "maybe"])).status_code
        == 404
    )
    assert Provider.objects.filter(pk=taking.pk).values_list("edit_version", flat=True).get() == (
        taking.edit_version
    )


def test_any_recent_confirmation_ends_a_lapse(taking):
    reminded, _ = _reminded(taking)
    availability.availability_lapse(today=reminded + 30 * DAY)
    taking.refresh_from_db()
    assert taking.availability_lapsed
    # Staff, an import or the provider's own page set the date: the save ends the lapse.
    taking.accepting_confirmed_on = timezone.localdate()
    taking.save(update_fields=["accepting_confirmed_on"])
    taking.refresh_from_db()
    assert not taking.availability_lapsed and taking.accepting_now


def test_staff_see_listings_by_availability_on_the_admin_index(
    make_published_provider, staff_client
):
    make_published_provider("Confirmed")
    make_published_provider("Lapsed", availability_lapsed=True)
    make_published_provider("Paused", paused_for_replies_at=timezone.now())
    make_published_provider("Full", accepting_new_clients=False)
    page = staff_client.get(reverse("admin:index")).content.decode()
    for label in (
        "Taking new clients, confirmed",
        "Lapsed: not confirmed in time",
        "Paused: enquiries unanswered",
        "Not taking new clients",
    ):
        row = page[page.index(label) :]
        assert row[: row.index("</tr>")].endswith("<td>1</td>"), label
    listed = staff_client.get(
        reverse("admin:services_provider_changelist") + "?availability=lapsed"
    ).content
    assert b"Lapsed" in listed and b"Confirmed" not in listed


# Replies --------------------------------------------------------------------------------


def test_the_reply_is_due_two_working_days_later(settings):
    settings.REPLY_WORKING_DAYS = 2
    friday = timezone.make_aware(datetime.datetime(2026, 12, 4, 15, 0))
    assert replies.reply_due(friday) == timezone.make_aware(datetime.datetime(2026, 12, 8, 15))
    saturday = friday + DAY
    assert replies.reply_due(saturday).date() == datetime.date(2026, 12, 8)
    monday = friday + 3 * DAY
    assert replies.reply_due(monday).date() == datetime.date(2026, 12, 9)


@pytest.fixture
def listing(make_listing):
    return make_listing(
        "Willow Practice",
        email="willow@example.org",
        services=[{"concerns": ["grief"]}],
        accepting_confirmed_on=timezone.localdate(),
    )


def _enquiry(provider, *, wants_follow_up=True, came_from="concern=grief", **fields):
    values = {
        "name": "Sam Reader",
        "email": "sam@example.org",
        "message": "I have been low since my mother died.",
        "preferred_contact": "email",
        "consents_to_processing": True,
    }
    values.update(fields)
    return enquiry_submit(
        provider=provider, wants_follow_up=wants_follow_up, came_from=came_from, **values
    )


def _answer_links(enquiry) -> dict[str, str]:
    body = enquiry.email_to_provider.body
    return dict(zip(["replied", "cannot-help", "spam"], map(_path, _links_in(body)), strict=True))


def _sent_hours_ago(enquiry, hours):
    """Move an enquiry back in time: sent `hours` ago, due as it would then have been."""
    sent = timezone.now() - datetime.timedelta(hours=hours)
    Enquiry.objects.filter(pk=enquiry.pk).update(
        created_at=sent, reply_due_at=replies.reply_due(sent)
    )


def test_the_enquiry_email_carries_three_links_that_record_the_answer_once(listing, client):
    enquiry = _enquiry(listing)
    url = _answer_links(enquiry)
    assert client.get(url["replied"]).status_code == 200
    enquiry.refresh_from_db()
    assert enquiry.answer == ""  # following the link changed nothing
    done = client.post(url["replied"])
    assert b"We have recorded" in done.content
    enquiry.refresh_from_db()
    assert enquiry.answer == Enquiry.Answer.REPLIED and enquiry.answered_at
    again = client.post(url["spam"])
    assert b"You had already told us" in again.content
    enquiry.refresh_from_db()
    assert enquiry.answer == Enquiry.Answer.REPLIED  # the first answer stands


def test_cannot_help_sends_the_person_other_places_at_once(listing, make_listing, client):
    make_listing("Oak Counselling", services=[{"concerns": ["grief"]}])
    make_listing("Full Up", services=[{"concerns": ["grief"]}], accepting_new_clients=False)
    make_listing("Other Area", services=[{"concerns": ["ocd"]}])
    enquiry = _enquiry(listing)
    mail.outbox.clear()
    client.post(_answer_links(enquiry)["cannot-help"], {"reason": "full"})
    enquiry.refresh_from_db()
    assert enquiry.answer == Enquiry.Answer.CANNOT_HELP and enquiry.cannot_help_reason == "full"
    assert enquiry.chased_at is not None
    [follow_up] = mail.outbox
    assert follow_up.to == ["sam@example.org"]
    assert "not able to help" in follow_up.body and "Oak Counselling" in follow_up.body
    assert "Full Up" not in follow_up.body and "Other Area" not in follow_up.body
    assert "Willow Practice\n" not in follow_up.body.split("match what you were looking for")[1]
    assert "116 123" in follow_up.body
    # The cron finds nothing more to do for it.
    assert replies.enquiries_chase(now=timezone.now() + 10 * DAY) == 0


def test_an_unknown_reason_is_no_reason(listing, client):
    enquiry = _enquiry(listing, wants_follow_up=False)
    assert client.post(_answer_links(enquiry)["cannot-help"], {"reason": "<b>"}).status_code == 200
    enquiry.refresh_from_db()
    assert enquiry.answer == Enquiry.Answer.CANNOT_HELP and enquiry.cannot_help_reason == ""


def test_an_unanswered_enquiry_is_chased_once(listing, make_listing):
    make_listing("Oak Counselling", services=[{"concerns": ["grief"]}])
    enquiry = _enquiry(listing)
    mail.outbox.clear()
    assert replies.enquiries_chase(now=enquiry.reply_due_at - datetime.timedelta(minutes=1)) == 0
    assert replies.enquiries_chase(now=enquiry.reply_due_at) == 1
    assert replies.enquiries_chase(now=enquiry.reply_due_at + DAY) == 0  # run again: nothing
    by_purpose = {e.purpose: e for e in OutgoingEmail.objects.exclude(purpose="enquiry")}
    assert set(by_purpose) == {
        OutgoingEmail.Purpose.FOLLOW_UP,
        OutgoingEmail.Purpose.REPLY_REMINDER,
    }
    follow_up = by_purpose[OutgoingEmail.Purpose.FOLLOW_UP]
    assert follow_up.to == "sam@example.org" and "Oak Counselling" in follow_up.body
    assert "concern=grief" in follow_up.body and "accepting=1" in follow_up.body
    reminder = by_purpose[OutgoingEmail.Purpose.REPLY_REMINDER]
    assert reminder.to == "willow@example.org" and "I've replied" in reminder.body
    assert len(mail.outbox) == 2


def test_no_follow_up_to_someone_who_did_not_ask(listing):
    enquiry = _enquiry(listing, wants_follow_up=False)
    replies.enquiries_chase(now=enquiry.reply_due_at)
    assert not OutgoingEmail.objects.filter(purpose=OutgoingEmail.Purpose.FOLLOW_UP).exists()
    assert OutgoingEmail.objects.filter(purpose=OutgoingEmail.Purpose.REPLY_REMINDER).exists()


def test_three_unanswered_in_a_row_pause_the_listing_until_it_answers(listing, client, settings):
    settings.UNANSWERED_IN_A_ROW_PAUSE = 3
    sent = [_enquiry(listing, wants_follow_up=False) for _ in range(3)]
    # A week and more ago: overdue whatever weekends fell between.
    for hours, enquiry in zip((220, 200, 180), sent, strict=True):
        _sent_hours_ago(enquiry, hours)
    _sent_hours_ago(sent[2], 1)  # the latest is not due yet
    replies.enquiries_chase()
    listing.refresh_from_db()
    assert listing.paused_for_replies_at is None
    _sent_hours_ago(sent[2], 180)
    replies.enquiries_chase()
    listing.refresh_from_db()
    assert listing.paused_for_replies_at is not None and not listing.accepting_now
    assert Provider.objects.needs_review().filter(pk=listing.pk).exists()
    client.post(_answer_links(sent[0])["replied"])
    listing.refresh_from_db()
    assert listing.paused_for_replies_at is None and listing.accepting_now


def test_an_answered_enquiry_breaks_the_run(listing, settings):
    settings.UNANSWERED_IN_A_ROW_PAUSE = 3
    sent = [_enquiry(listing, wants_follow_up=False) for _ in range(4)]
    for hours, enquiry in zip((240, 220, 200, 180), sent, strict=True):
        _sent_hours_ago(enquiry, hours)
    replies.enquiry_answer(enquiry=sent[1], answer=Enquiry.Answer.REPLIED)
    assert replies.pauses_apply([listing.pk], now=timezone.now()) == []


def test_reply_figures_from_five_enquiries_spam_not_counted(listing, settings):
    settings.REPLY_FIGURES_FROM = 5
    sent = [_enquiry(listing, wants_follow_up=False) for _ in range(6)]
    for enquiry in sent:
        _sent_hours_ago(enquiry, 200)
    now = timezone.now()
    for enquiry, hours in zip(sent[:3], (2, 3, 30), strict=True):
        Enquiry.objects.filter(pk=enquiry.pk).update(
            answer=Enquiry.Answer.REPLIED,
            answered_at=now - datetime.timedelta(hours=200 - hours),
        )
    replies.enquiry_answer(enquiry=sent[5], answer=Enquiry.Answer.SPAM)
    listing.refresh_from_db()
    # 5 counted (spam is not), 3 answered: 60%, in a median of 3 hours.
    assert (listing.replies_counted, listing.reply_rate, listing.reply_hours) == (5, 60, 3)
    Enquiry.objects.filter(pk=sent[4].pk).update(answer=Enquiry.Answer.SPAM)
    replies.reply_figures_update([listing.pk])
    listing.refresh_from_db()
    assert (listing.replies_counted, listing.reply_rate, listing.reply_hours) == (4, None, None)


def test_enquiries_age_out_of_the_figures(listing, settings):
    settings.REPLY_FIGURES_FROM = 1
    enquiry = _enquiry(listing, wants_follow_up=False)
    replies.enquiry_answer(enquiry=enquiry, answer=Enquiry.Answer.REPLIED)
    listing.refresh_from_db()
    assert listing.reply_rate == 100
    assert replies.reply_figures_refresh(now=timezone.now() + 91 * DAY) == 1
    listing.refresh_from_db()
    assert (listing.replies_counted, listing.reply_rate) == (0, None)


def test_forged_old_and_forgotten_enquiry_links_change_nothing(listing, make_listing, client):
    enquiry = _enquiry(listing)
    url = _answer_links(enquiry)["replied"]
    token = url.split("/")[-3]
    assert client.post(url.replace(token, token[:-3] + "abc")).status_code == 400
    other = make_listing("Oak Counselling")
    wrong = links.token_make(replies.KIND, enquiry.pk, other.pk)
    assert (
        client.post(reverse("services:enquiry_answer", args=[wrong, "replied"])).status_code == 400
    )
    Enquiry.objects.filter(pk=enquiry.pk).update(forgotten_at=timezone.now())
    assert client.post(url).status_code == 400
    assert client.post(url.replace("/replied/", "/maybe/")).status_code == 404
    enquiry.refresh_from_db()
    assert enquiry.answer == ""


def test_the_form_keeps_the_search_it_came_from_for_the_follow_up_only(listing, client):
    url = reverse("services:provider_contact", args=[listing.slug])
    form = {
        "name": "Sam",
        "email": "sam@example.org",
        "preferred_contact": "email",
        "message": "Hello, could we talk?",
        "consents_to_processing": "on",
    }
    search = "?q=my+mum+died&near=Leeds&concern=grief"
    client.post(url + search, {**form, "wants_follow_up": "on"})
    asked = Enquiry.objects.get()
    assert asked.wants_follow_up and asked.came_from == "near=Leeds&concern=grief"  # not the words
    assert asked.reply_due_at > asked.created_at
    client.post(url + search, form)
    not_asked = Enquiry.objects.exclude(pk=asked.pk).get()
    assert not not_asked.wants_follow_up and not_asked.came_from == ""


def test_a_follow_up_needs_an_email_address(listing, client):
    url = reverse("services:provider_contact", args=[listing.slug])
    page = client.post(
        url,
        {
            "name": "Sam",
            "phone": "0113 496 0001",
            "preferred_contact": "phone",
            "message": "Hello, could we talk?",
            "consents_to_processing": "on",
            "wants_follow_up": "on",
        },
    )
    assert page.status_code == 400
    assert b"other places to try" in page.content and b"Hello, could we talk?" in page.content
    assert not Enquiry.objects.exists()


def test_the_profile_passes_the_search_on_to_the_message_form(listing, client):
    page = client.get(listing.get_absolute_url() + "?near=Leeds&concern=grief")
    contact = reverse("services:provider_contact", args=[listing.slug])
    assert f'href="{contact}?near=Leeds&amp;concern=grief"'.encode() in page.content


def test_the_command_runs_every_step_and_a_second_run_does_nothing(taking, listing):
    Provider.objects.filter(pk=taking.pk).update(
        accepting_confirmed_on=timezone.localdate() - 40 * DAY
    )
    enquiry = _enquiry(listing)
    _sent_hours_ago(enquiry, 24 * 7)
    out = io.StringIO()
    call_command("keep_listings_current", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("1 availability reminders queued")
    assert lines[2].startswith("1 enquiries chased")
    out = io.StringIO()
    call_command("keep_listings_current", stdout=out)
    assert [line.split(" ")[0] for line in out.getvalue().splitlines()] == ["0", "0", "0", "0"]


def test_the_follow_up_offers_the_nearest_of_the_same_kind_first(make_listing):
    # From Leeds: Headingley is 3 km away, Horsforth 7.
    leeds, headingley, horsforth = (53.8008, -1.5491), (53.8195, -1.5760), (53.8375, -1.6437)
    wrote_to = make_listing(
        "Willow Practice", services=[{"concerns": ["grief"]}], places=[("Leeds", *leeds)]
    )
    make_listing("Far Counselling", services=[{"concerns": ["grief"]}], places=[("F", *horsforth)])
    make_listing(
        "Near Counselling", services=[{"concerns": ["grief"]}], places=[("N", *headingley)]
    )
    make_listing(
        "Play Room",
        services=[{"type": "play-therapy", "concerns": ["grief"]}],
        places=[("L", *leeds)],
    )
    enquiry = _enquiry(wrote_to, came_from=f"lat={leeds[0]}&lng={leeds[1]}&concern=grief")
    replies.enquiries_chase(now=enquiry.reply_due_at)
    body = OutgoingEmail.objects.get(purpose=OutgoingEmail.Purpose.FOLLOW_UP).body
    assert body.index("Near Counselling") < body.index("Far Counselling")
    assert "Play Room" not in body  # not the kind of support they wrote about
    assert f"?lat={leeds[0]}&lng={leeds[1]}&concern=grief" in body  # the profiles keep it


def test_staff_can_look_over_what_providers_marked_as_spam(listing, staff_client):
    marked = _enquiry(listing, wants_follow_up=False, name="Marked As Spam")
    _enquiry(listing, wants_follow_up=False, name="Not Answered")
    replies.enquiry_answer(enquiry=marked, answer=Enquiry.Answer.SPAM)
    page = staff_client.get(reverse("admin:services_enquiry_changelist") + "?answer__exact=spam")
    assert page.status_code == 200
    assert b"Marked As Spam" in page.content and b"Not Answered" not in page.content
