"""A message that goes unanswered, in Chromium, as a person on a phone meets it: a search, a
profile, the message form with the follow-up box ticked; two working days without a reply
(the clock is moved in the database, never waited on); the follow-up email's other places
to try; the provider's late "I've replied" from the enquiry email; and the reply figures
the profile shows once enough messages are counted, with how they are counted."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from services.enquiries import enquiry_submit
from services.indexing import search_index_update
from services.models import Concern, Enquiry, Provider, SupportType
from services.upkeep import replies

pytestmark = pytest.mark.browser

SEARCH = "/find/?concern=grief&near=Leeds"
PERSON = {"name": "Sam Reader", "email": "sam.reader@example.org"}
MESSAGE = (
    "My mum died in March and I am not coping. Could we talk about counselling? "
    "I am free most evenings."
)
URL = re.compile(r"https?://[^\s]+")


def path_of(url: str) -> str:
    """The live server is not settings.SITE_URL: an emailed link is followed by its path."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sent_hours_ago(enquiry: Enquiry, hours: float) -> None:
    """Move an enquiry back in time: sent `hours` ago, due as it would then have been."""
    sent = timezone.now() - datetime.timedelta(hours=hours)
    Enquiry.objects.filter(pk=enquiry.pk).update(
        created_at=sent, reply_due_at=replies.reply_due(sent)
    )


def listings_in(body: str) -> dict[str, str]:
    """The follow-up's listings: {name: the path of its profile}."""
    lines = body.splitlines()
    return {
        lines[i][2:].strip(): path_of(lines[i + 1].strip())
        for i in range(len(lines) - 1)
        if lines[i].startswith("- ") and "/providers/" in lines[i + 1]
    }


def another_message(provider: Provider, number: int) -> Enquiry:
    return enquiry_submit(
        provider=provider,
        name=f"Another writer {number}",
        email=f"writer{number}@example.org",
        message="Hello, are you taking new clients?",
        preferred_contact="email",
        consents_to_processing=True,
    )


@pytest.mark.parametrize("width", [360, 1280])
def test_an_unanswered_message_brings_other_places_and_the_profile_shows_replies(
    directory,
    new_page,
    screenshot,
    assert_no_axe_violations,
    width,
    make_provider,
    make_location,
    make_service,
):
    story = directory.story
    # Another grief counsellor in Leeds taking new clients, for the follow-up to offer.
    other = make_provider(
        "Oak Tree Counselling", status=Provider.Status.PUBLISHED, phone="0113 496 0999"
    )
    rooms = make_location(other, town="Leeds", latitude=53.8, longitude=-1.55)
    grief = make_service(
        other,
        support_type=SupportType.objects.get(slug="counselling"),
        locations=[rooms],
        offers_in_person=True,
    )
    grief.concerns.add(Concern.objects.get(slug="grief"))
    search_index_update([other.pk])
    mail.outbox.clear()
    page = new_page(width=width)

    # 1. A search, a profile from its results, and a message with the follow-up box ticked.
    page.goto(SEARCH)
    card = page.locator("ol.cards > li").filter(
        has=page.get_by_role("link", name=story.name, exact=True)
    )
    expect(card).to_contain_text("Taking new clients")
    screenshot(page, "reply-journey-results")
    card.get_by_role("link", name=story.name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(story.name)
    # The profile keeps the search, so the form can pass it on to a follow-up.
    assert "concern=grief" in page.url and "near=Leeds" in page.url
    page.get_by_role("link", name=f"Send a message to {story.name}").click()
    page.wait_for_url(f"**/providers/{story.slug}/contact/?*")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Contact {story.name}")
    page.get_by_label("Your name").fill(PERSON["name"])
    page.get_by_label("Your email address").fill(PERSON["email"])
    page.get_by_label("Your message").fill(MESSAGE)
    page.get_by_label(re.compile(r"^I agree that .* keeps my message")).check()
    follow_up = page.get_by_label(
        "If they have not answered within 2 working days, email me other places to try."
    )
    expect(follow_up).not_to_be_checked()
    follow_up.check()
    screenshot(page, "reply-journey-contact")
    assert_no_axe_violations(page, "the message form")
    page.get_by_role("button", name="Send message").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your message is on its way to {story.name}"
    )
    expect(page.get_by_text("If they have not told us within 2 working days")).to_be_visible()
    screenshot(page, "reply-journey-sent")
    enquiry = Enquiry.objects.get(provider=story)
    assert enquiry.wants_follow_up and enquiry.email == PERSON["email"]
    assert enquiry.came_from == "near=Leeds&concern=grief"
    [to_provider] = [m for m in mail.outbox if m.to == [story.email]]
    assert MESSAGE in to_provider.body

    # 2. No reply: a week passes (whatever weekends fall in it), and the daily job chases.
    assert replies.enquiries_chase() == 0  # not due yet
    sent_hours_ago(enquiry, 24 * 7)
    assert replies.enquiries_chase() == 1

    # 3. The follow-up: to the person, other listings for grief near Leeds, the urgent line.
    [follow] = [m for m in mail.outbox if m.to == [PERSON["email"]]]
    assert "Other places to try" in follow.subject
    assert f"you wrote to {story.name}" in follow.body
    offered = listings_in(follow.body)
    assert other.name in offered and story.name not in offered, follow.body
    assert len(offered) <= replies.ALTERNATIVES
    for name in offered:
        listing = Provider.objects.published().get(name=name)
        assert listing.accepting_now, name
        # The kind of support they wrote to, for what they searched.
        assert listing.services.filter(
            concerns__slug="grief", support_type__slug="counselling"
        ).exists(), name
    assert settings.CRISIS_LINE["text"] in follow.body and "116 123" in follow.body
    [reminder] = [m for m in mail.outbox if m.to == [story.email] and m is not to_provider]
    assert "Have you answered" in reminder.subject
    name, profile = next(iter(offered.items()))
    page.goto(profile)
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator("main header.profile-header")).to_contain_text("Taking new clients")
    screenshot(page, "reply-journey-other-place")

    # 4. The provider answers from the enquiry email: the link asks first, the button records.
    replied = next(
        path_of(url)
        for url in URL.findall(to_provider.body)
        if urlsplit(url).path.endswith("/replied/")
    )
    provider_page = new_page(width=width)
    provider_page.goto(replied)
    expect(provider_page.get_by_role("heading", level=1)).to_have_text(
        f"Have you replied to {PERSON['name']}?"
    )
    enquiry.refresh_from_db()
    assert enquiry.answer == ""  # opening the link changed nothing
    screenshot(provider_page, "reply-journey-answer")
    assert_no_axe_violations(provider_page, "the provider's answer page")
    provider_page.get_by_role("button", name="Yes, I have replied").click()
    expect(provider_page.get_by_role("status")).to_contain_text("We have recorded: you replied")
    screenshot(provider_page, "reply-journey-answered")
    enquiry.refresh_from_db()
    assert enquiry.answer == Enquiry.Answer.REPLIED

    # 5. Enough messages to be fair: 3 more answered 10 hours after they were sent, one
    # overdue and unanswered. 4 of 5 answered; half the answers within 10 hours.
    story.refresh_from_db()
    assert story.reply_rate is None  # one counted message shows nothing
    page.goto(story.get_absolute_url())
    expect(page.get_by_text("How we count replies")).to_have_count(0)
    unanswered = another_message(story, 0)
    sent_hours_ago(unanswered, 24 * 7)
    for number in range(1, 4):
        answered = another_message(story, number)
        sent_hours_ago(answered, 10)
        replies.enquiry_answer(enquiry=answered, answer=Enquiry.Answer.REPLIED)
    story.refresh_from_db()
    assert (story.replies_counted, story.reply_rate, story.reply_hours) == (5, 80, 10)

    page.goto(story.get_absolute_url())
    said = "Answers 80% of messages, usually within a day"
    glance = page.locator("main header.profile-header dl.glance")
    expect(glance.locator('dt:text-is("Replies") + dd')).to_have_text(said)
    fees = page.get_by_role("region", name="Fees and availability")
    expect(fees).to_contain_text(f"{said}.")
    expect(fees).to_contain_text(
        "Counted from the messages sent to them through this site in the last 90 days"
    )
    shot = screenshot(page, "reply-journey-profile")
    # A phone's full page is cut off before this section: it gets a picture of its own.
    fees.screenshot(path=shot.with_name(f"reply-journey-profile-fees-{width}.png"))
    assert_no_axe_violations(page, "the profile with reply figures")
    fees.get_by_role("link", name="How we count replies").click()
    page.wait_for_url("**/about/#replies")
    section = page.get_by_role("heading", level=2, name="How we count replies")
    expect(section).to_be_in_viewport()
    expect(page.locator("main")).to_contain_text("Only from 5 messages")
    screenshot(page, "reply-journey-how-we-count")
