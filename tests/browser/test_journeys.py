"""What a person does on the site, in a real browser: with a mouse, the keyboard alone,
without JavaScript, and from where they are."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PROFILE_SECTIONS = [
    "Specialises in",
    "Approach",
    "Qualifications and experience",
    "Getting to know Lucía Ferrer",
    "Recommendations (2)",
    "Fees and availability",
    "Where",
    "Contact",
    "How up to date this is",
]


def query_of(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def assert_query(page, **expected: str) -> None:
    query = query_of(page)
    assert {name: query.get(name) for name in expected} == {
        name: [value] for name, value in expected.items()
    }


def card_names(page) -> list[str]:
    return page.locator("ol.cards article h3").all_inner_texts()


def expect_story_results(page, directory):
    """The filtered results: the summary, the active filters and the story's listing."""
    assert_query(
        page,
        q="grief",
        near="Leeds",
        type="counselling",
        language="spanish",
        max_fee=str(directory.fee_ceiling),
    )
    expect(page.locator("#results-title")).to_have_text(
        re.compile(r"^\d+ counsellors? matching “grief” within 10 km of Leeds$")
    )
    chips = page.get_by_role("list", name="Active filters")
    for chip in ["“grief”", "within 10 km of Leeds", "Counselling", "Spanish", "up to £60"]:
        expect(chips).to_contain_text(chip)
    card = page.locator("ol.cards > li").filter(
        has=page.get_by_role("link", name=directory.story.name, exact=True)
    )
    expect(card).to_have_count(1)
    expect(card).to_contain_text("£40–£50 a session")
    expect(card).to_contain_text("Taking new clients")
    expect(card).to_contain_text(re.compile(r"\d+\.\d km away \(Leeds\)"))
    return card


def test_a_person_finds_a_spanish_speaking_grief_counsellor_near_leeds(directory, page):
    story = directory.story
    page.goto("/")
    page.get_by_label("What would you like support with?").fill("grief")
    page.get_by_label("Where?").fill("Leeds")
    page.get_by_role("button", name="Search", exact=True).click()

    page.wait_for_url("**/find/?*")
    assert_query(page, q="grief", near="Leeds")
    expect(page.locator("#results-title")).to_contain_text("matching “grief” within 10 km of Leeds")
    filters = page.get_by_role("complementary", name=re.compile("^Filters"))
    filters.get_by_role("checkbox", name=re.compile(r"^Counselling \(")).check()
    # Long lists start folded: the person opens "Language" first.
    filters.locator("#id_language > summary").click()
    filters.get_by_role("checkbox", name=re.compile(r"^Spanish \(")).check()
    filters.get_by_label("Most you can pay a session").fill(str(directory.fee_ceiling))
    filters.get_by_role("button", name="Apply filters").click()

    page.wait_for_url(re.compile(r"max_fee=60"))
    expect_story_results(page, directory)
    results_url, results = page.url, card_names(page)

    page.get_by_role("link", name=story.name, exact=True).click()
    # The profile's address carries the search and the service the card showed.
    page.wait_for_url(f"**{story.get_absolute_url()}?*")
    expect(page.get_by_role("heading", level=1)).to_have_text(story.name)
    expect(page.locator("main h2")).to_have_text(PROFILE_SECTIONS)
    sections = {name: page.get_by_role("region", name=name) for name in PROFILE_SECTIONS}
    expect(sections["Specialises in"]).to_contain_text("Grief and loss")
    expect(sections["Approach"]).to_contain_text("person-centred therapy")
    expect(sections["Qualifications and experience"]).to_contain_text("Verified by our staff")
    expect(sections["Getting to know Lucía Ferrer"]).to_contain_text("Spanish")
    expect(sections["Fees and availability"]).to_contain_text("£40–£50 a session")
    expect(sections["Where"]).to_contain_text("Leeds")
    expect(sections["Contact"].get_by_role("link", name="0113 496 0123")).to_be_visible()
    expect(sections["Recommendations (2)"]).to_contain_text("Dr Amira Patel, GP, Leeds")
    expect(sections["How up to date this is"]).to_contain_text("Listing checked by our staff")

    page.go_back()
    expect(page).to_have_url(results_url)
    assert card_names(page) == results
    expect_story_results(page, directory)


class Keyboard:
    """Moves the focus with Tab (or Shift+Tab) only, checking each stop can be seen."""

    def __init__(self, page):
        self.page = page

    def focused(self) -> dict:
        return self.page.evaluate(
            """() => {
                const el = document.activeElement;
                const style = getComputedStyle(el);
                return {
                    html: el.outerHTML.slice(0, 120),
                    outline: style.outlineStyle,
                    width: parseFloat(style.outlineWidth),
                };
            }"""
        )

    def move_to(self, selector: str, key: str = "Tab", limit: int = 60) -> None:
        for _ in range(limit):
            self.page.keyboard.press(key)
            element = self.focused()
            # A visible focus indicator at every stop on the way.
            assert element["outline"] != "none" and element["width"] > 0, (
                f"no visible focus indicator on {element['html']}"
            )
            if self.page.evaluate("s => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"{limit} presses of {key} did not reach {selector}")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)


def test_search_and_filters_work_with_the_keyboard_alone(directory, new_page):
    page = new_page(width=360)
    keyboard = Keyboard(page)
    page.goto("/")

    keyboard.move_to(".skip-link")
    expect(page.get_by_role("link", name="Skip to content")).to_be_in_viewport()
    keyboard.move_to("#id_q")
    keyboard.type("grief")
    keyboard.move_to("#id_near")
    keyboard.type("Leeds")
    keyboard.press("Enter")
    page.wait_for_url("**/find/?*")

    # On a phone the filters start folded.
    filters = page.locator("[data-filters]")
    expect(filters).not_to_have_attribute("open", "")
    keyboard.move_to("[data-filters] > summary")
    keyboard.press("Enter")
    expect(filters).to_have_attribute("open", "")
    keyboard.move_to("#f-type-counselling")
    keyboard.press("Space")
    expect(page.locator("#f-type-counselling")).to_be_checked()
    # Folded groups' checkboxes are skipped on the way to the fee.
    keyboard.move_to("#id_max_fee")
    keyboard.type(str(directory.fee_ceiling))
    # Back to the folded "Language" group, open it, tick Spanish.
    keyboard.move_to("#id_language > summary", key="Shift+Tab")
    keyboard.press("Space")
    expect(page.locator("#id_language")).to_have_attribute("open", "")
    keyboard.move_to("#f-language-spanish")
    keyboard.press("Space")
    expect(page.locator("#f-language-spanish")).to_be_checked()
    keyboard.move_to("[data-filters] button[type=submit]")
    keyboard.press("Enter")

    page.wait_for_url(re.compile(r"language=spanish"))
    expect_story_results(page, directory)
    # The result is reachable from the keyboard too.
    keyboard.move_to(f"a[href^='{directory.story.get_absolute_url()}?']")
    keyboard.press("Enter")
    page.wait_for_url(f"**{directory.story.get_absolute_url()}?*")


def test_search_and_filters_work_without_javascript(directory, new_page):
    page = new_page(java_script_enabled=False)
    page.goto("/")
    # "Use my location" needs JavaScript, so without it the button is not offered.
    expect(page.get_by_role("button", name="Use my location")).to_be_hidden()
    page.get_by_label("What would you like support with?").fill("grief")
    page.get_by_label("Where?").fill("Leeds")
    page.get_by_role("button", name="Search", exact=True).click()

    page.wait_for_url("**/find/?*")
    expect(page.locator("#results-title")).to_contain_text("matching “grief” within 10 km of Leeds")
    # Without JavaScript the filters stay folded even on a wide screen: the summary opens them.
    page.locator("[data-filters] > summary").click()
    page.get_by_role("checkbox", name=re.compile(r"^Counselling \(")).check()
    page.locator("#id_language > summary").click()
    page.get_by_role("checkbox", name=re.compile(r"^Spanish \(")).check()
    page.get_by_label("Most you can pay a session").fill(str(directory.fee_ceiling))
    page.get_by_role("button", name="Apply filters").click()

    page.wait_for_url(re.compile(r"max_fee=60"))
    expect_story_results(page, directory)
    page.get_by_role("link", name="Remove Spanish").click()
    page.wait_for_url(lambda url: "language=" not in url)
    expect(page.get_by_role("list", name="Active filters")).not_to_contain_text("Spanish")


def test_use_my_location_searches_from_where_the_person_is(directory, new_page):
    leeds = directory.leeds
    page = new_page(geolocation=leeds, permissions=["geolocation"])
    page.goto("/")
    page.get_by_role("button", name="Use my location").click()

    page.wait_for_url("**/find/?*")
    query = query_of(page)
    # Rounded to about 100 m before it leaves the browser.
    assert query["lat"] == [f"{leeds['latitude']:.3f}"]
    assert query["lng"] == [f"{leeds['longitude']:.3f}"]
    assert query.get("near", [""]) == [""]
    expect(page.locator("#results-title")).to_have_text(
        re.compile(r"^\d+ listings? within 10 km of your location$")
    )
    expect(page.get_by_role("link", name=directory.story.name, exact=True)).to_be_visible()


def test_a_person_contacts_a_provider_without_javascript(directory, new_page, mailoutbox):
    from services.models import Enquiry

    story = directory.story
    page = new_page(width=360, java_script_enabled=False)
    page.goto(story.get_absolute_url())
    page.get_by_role("link", name=f"Send {story.name} a message").click()
    page.wait_for_url(f"**{story.get_absolute_url()}contact/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Contact {story.name}")

    # A mistake first: the form comes back with the error and the message still typed.
    page.get_by_label("Your name").fill("Sam Reader")
    page.get_by_label("Your message").fill("Hello, I would like to talk about losing my mother.")
    page.get_by_role("radio", name="Phone").check()
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("alert")).to_contain_text("Give an email address or a phone number")
    expect(page.get_by_label("Your message")).to_have_value(
        "Hello, I would like to talk about losing my mother."
    )
    page.get_by_role("link", name="Your phone number").click()
    expect(page.get_by_label("Your phone number")).to_be_focused()
    page.get_by_label("Your phone number").fill("07700 900123")
    page.get_by_label(re.compile("^I agree that")).check()
    page.get_by_role("button", name="Send message").click()

    # (The browser keeps the "#id_phone" the error link added, through the redirect.)
    page.wait_for_url(re.compile(rf"{story.get_absolute_url()}contact/sent/(#.*)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your message is on its way to {story.name}"
    )
    expect(page.get_by_role("complementary", name="If you need help now")).to_contain_text(
        "116 123"
    )
    enquiry = Enquiry.objects.get(provider=story)
    assert (enquiry.phone, enquiry.email_to_provider.state) == ("07700 900123", "sent")
    assert [m.to for m in mailoutbox] == [[story.email]]


def test_a_person_reports_a_listing_with_the_keyboard(directory, new_page):
    from services.models import Report

    story = directory.story
    page = new_page()
    keyboard = Keyboard(page)
    page.goto(story.get_absolute_url() + "report/")
    keyboard.move_to("#id_problem_0")
    keyboard.press("ArrowDown")  # radios move with the arrow keys
    expect(page.get_by_role("radio", name="They are not taking new clients")).to_be_checked()
    keyboard.move_to("#id_details")
    keyboard.type("Their answerphone says the list is full.")
    keyboard.move_to("form.public-form button[type=submit]")
    keyboard.press("Enter")
    page.wait_for_url(f"**{story.get_absolute_url()}report/thanks/")
    report = Report.objects.get(provider=story)  # the demo listings have reports of their own
    assert (report.problem, report.status) == ("not_taking", "open")
