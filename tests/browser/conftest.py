"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

No browser is ever downloaded: Playwright starts /usr/bin/chromium (`apt-get install chromium`).
Without it these tests fail in CI (CI=true) and are skipped elsewhere, with the reason.

The live server reads what the test thread has committed, so the data comes from fixtures
that depend on `transactional_db`: every test gets the taxonomies, the search synonyms,
120 seeded demo listings and one listing of its own, and the tables are emptied after it.
"""

import io
import os
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from services.indexing import search_index_update
from services.management.commands.seed_demo import insert_rows
from services.models import (
    Approach,
    Concern,
    GazetteerPlace,
    Language,
    Location,
    Provider,
    Qualification,
    SupportType,
)
from services.recommendations import recommendation_approve, recommendation_submit

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The widths every page is checked and shown at: a small phone and a laptop.
VIEWPORTS = {360: {"width": 360, "height": 780}, 1280: {"width": 1280, "height": 800}}
# Every run writes to artifacts/ (not tracked); `make screenshots` refreshes the README's copies.
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR") or settings.BASE_DIR / "artifacts" / "screenshots"
)
# A page taller than this is cut off at this height, to keep each file under about 400 KB.
SCREENSHOT_MAX_HEIGHT = {360: 2400, 1280: 1800}

# WCAG 2.2 level A and AA, as axe-core tags its rules.
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

LEEDS = {"latitude": 53.8008, "longitude": -1.5491}


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session", autouse=True)
def _require_chromium():
    """Before anything else: a missing browser fails CI and skips the tests elsewhere."""
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is missing: the browser tests need Debian's Chromium "
            "(apt-get install -y --no-install-recommends chromium)."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium(_require_chromium):
    """One headless Chromium for the whole run."""
    # Playwright's synchronous API keeps an asyncio loop running in this thread, so Django
    # would take the tests' own database calls for calls from async code and refuse them.
    # They are plain synchronous calls; the live server answers from its own thread.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture(scope="session")
def static_root(tmp_path_factory):
    """The live server's WhiteNoise needs a STATIC_ROOT that exists (as tests/conftest.py gives
    each test); the server starts once, before any test's settings apply."""
    path = tmp_path_factory.getbasetemp() / "staticfiles"
    path.mkdir(exist_ok=True)
    with override_settings(STATIC_ROOT=path):
        yield path


@pytest.fixture(scope="session")
def live_server(static_root, live_server):
    """pytest-django's live server, started after static_root."""
    return live_server


@pytest.fixture
def new_page(chromium, live_server):
    """new_page(width=1280, **context_options) -> a page in a fresh browser context (360 or 1280).

    Every request the page makes is recorded: none may leave the live server (no
    third-party scripts, fonts or trackers, and no network but this machine).
    """
    contexts, requested, console_errors = [], [], []

    def make(width=1280, **options):
        context = chromium.new_context(
            viewport=VIEWPORTS[width], base_url=live_server.url, locale="en-GB", **options
        )
        context.set_default_timeout(10_000)
        context.on("request", lambda request: requested.append(request.url))
        contexts.append(context)
        page = context.new_page()
        # Chromium reports every Content-Security-Policy violation on the console.
        page.on(
            "console",
            lambda message: (
                console_errors.append(f"{page.url}: {message.text}")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: console_errors.append(f"{page.url}: {error}"))
        return page

    yield make
    for context in contexts:
        context.close()
    violations = [error for error in console_errors if "Content Security Policy" in error]
    assert not violations, f"Content-Security-Policy violations: {violations}"
    # Other console errors are a missing favicon on the admin's pages and the like; uncaught
    # script errors are not.
    script_errors = [error for error in console_errors if "Failed to load resource" not in error]
    assert not script_errors, f"script errors: {script_errors}"
    server = urlsplit(live_server.url).netloc
    elsewhere = [
        url
        for url in requested
        if urlsplit(url).scheme not in ("data", "about") and urlsplit(url).netloc != server
    ]
    assert not elsewhere, f"requests that left the live server: {elsewhere}"


STAFF_PASSWORD = "a-long-browser-test-password"


@pytest.fixture
def staff_page(new_page, django_user_model):
    """staff_page(username, next="/admin/") -> (a 1280 px page signed in to the admin as a new
    superuser of that name, the user)."""

    def sign_in(username, next="/admin/"):
        user = django_user_model.objects.create_superuser(
            username, f"{username}@example.org", STAFF_PASSWORD
        )
        page = new_page(width=1280)
        page.goto(f"/admin/login/?next={next}")
        page.get_by_label("Username:").fill(username)
        page.get_by_label("Password:").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        return page, user

    return sign_in


@pytest.fixture
def page(new_page):
    """A desktop-sized page with JavaScript on."""
    return new_page()


@pytest.fixture(scope="session")
def axe():
    return Axe()


@pytest.fixture
def assert_no_axe_violations(axe):
    """assert_no_axe_violations(page, label): axe-core finds nothing at WCAG 2.2 A/AA.

    Folded <details> are opened first, so what they hide is checked too.
    """

    def check(page, label):
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        options = {
            "runOnly": {"type": "tag", "values": WCAG_AA_TAGS},
            "resultTypes": ["violations"],
        }
        results = axe.run(page, options=options)
        assert results.violations_count == 0, f"{label}: {results.generate_report()}"

    return check


@pytest.fixture
def screenshot():
    """screenshot(page, name): a full-page PNG in docs/screenshots/NAME-WIDTH.png, cut short."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        width = page.viewport_size["width"]
        height = page.evaluate("document.documentElement.scrollHeight")
        path = SCREENSHOTS / f"{name}-{width}.png"
        page.screenshot(
            path=path,
            type="png",
            full_page=True,
            clip={
                "x": 0,
                "y": 0,
                "width": width,
                "height": min(height, SCREENSHOT_MAX_HEIGHT[width]),
            },
        )
        return path

    return take


# --------------------------------------------------------------------------- data


@dataclass
class Rows:
    columns: list[str]
    values: list[tuple]


@pytest.fixture(scope="session")
def gazetteer_rows(django_db_setup, django_db_blocker):
    """The place names that migration 0004 loads, kept to put back after a flush.

    A transactional test empties every table when it ends, the gazetteer included,
    and "Leeds" must still be found in the next one.
    """
    columns = [field.column for field in GazetteerPlace._meta.concrete_fields]
    with django_db_blocker.unblock():
        return Rows(columns, list(GazetteerPlace.objects.values_list(*columns)))


@dataclass
class Directory:
    """What the browser tests search for."""

    story: Provider  # the Spanish-speaking grief counsellor in Leeds
    fee_ceiling: int
    leeds: dict  # the centre of Leeds, as a browser's geolocation gives it


@pytest.fixture
def directory(
    transactional_db,
    live_server,
    gazetteer_rows,
    make_provider,
    make_location,
    make_service,
    make_qualification,
):
    """Taxonomies, synonyms, 120 seeded listings, and one listing the story test looks for."""
    if not GazetteerPlace.objects.exists():
        # seed_demo's bulk writer: COPY on PostgreSQL, about 0.3 s for the 38,000 places.
        insert_rows(GazetteerPlace, gazetteer_rows.columns, gazetteer_rows.values)
    # Taxonomy options and nouns are cached; other tests may have cached other terms.
    cache.clear()
    call_command("loaddata", "taxonomies", verbosity=0)
    call_command("loaddata", "synonyms", verbosity=0)
    call_command("seed_demo", providers=120, seed=3, stdout=io.StringIO())

    today = timezone.localdate()
    story = make_provider(
        "Lucía Ferrer",
        slug="lucia-ferrer",
        email="hello@lucia-ferrer.example.org",
        status=Provider.Status.PUBLISHED,
        phone="0113 496 0123",
        website="https://lucia-ferrer.example.org",
        pronouns="she/her",
        practising_since=2011,
        statement=(
            "I am a counsellor in Leeds and I work in Spanish and in English. Much of my work "
            "is with people living with grief and loss, at their own pace."
        ),
        offers_free_consultation=True,
        accepting_new_clients=True,
        accepting_confirmed_on=today - timedelta(days=7),
        last_verified=today - timedelta(days=30),
    )
    story.languages.set(Language.objects.filter(slug__in=["spanish", "english"]))
    make_qualification(
        story,
        title="Registered member",
        issuer="BACP",
        number="0123456",
        year=2012,
        verified_on=today - timedelta(days=30),
    )
    make_qualification(
        story,
        kind=Qualification.Kind.DEGREE,
        title="MA in Counselling",
        issuer="Leeds Beckett University",
        year=2010,
    )
    rooms = make_location(
        story,
        name="Park Square rooms",
        address_line1="4 Park Square East",
        town="Leeds",
        postcode="LS1 2NE",
        region="England",
        latitude=LEEDS["latitude"],
        longitude=LEEDS["longitude"],
        wheelchair_access=Location.WheelchairAccess.FULL,
        wheelchair_access_confirmed_by=Location.ConfirmedBy.STAFF,
        opening_hours="Mon–Thu 9:00–20:00",
    )
    counselling = make_service(
        story,
        support_type=SupportType.objects.get(slug="counselling"),
        locations=[rooms],
        description="Short- or longer-term counselling after a bereavement or another loss.",
        offers_in_person=True,
        offers_online=True,
        fee_min=Decimal("40"),
        fee_max=Decimal("50"),
    )
    counselling.concerns.set(Concern.objects.filter(slug__in=["grief", "life-transitions"]))
    counselling.approaches.set(Approach.objects.filter(slug__in=["person-centred"]))
    for author, relationship, role, text in [
        (
            "Dr Amira Patel",
            "referrer",
            "GP, Leeds",
            "I have referred several bereaved patients to Lucía. Each one was seen quickly and "
            "treated with great care.",
        ),
        (
            "Tom",
            "former_client",
            "",
            "Lucía helped me through the first year after my father died.",
        ),
    ]:
        recommendation_approve(
            recommendation=recommendation_submit(
                provider=story,
                author_name=author,
                relationship=relationship,
                author_role=role,
                author_email="someone@example.org",
                text=text,
                consents_to_publication=True,
            ),
            by=None,
        )
    search_index_update([story.pk])
    return Directory(story=story, fee_ceiling=60, leeds=LEEDS)
