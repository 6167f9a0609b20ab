"""The staff side: the provider list, its actions, the edit form with inlines, history."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from services import admin_paging
from services.admin_paging import LargeTablePaginator
from services.models import (
    Approach,
    Concern,
    Language,
    Provider,
    Service,
    SupportType,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:services_provider_changelist")
ADD = reverse("admin:services_provider_add")


def change_url(provider):
    return reverse("admin:services_provider_change", args=[provider.pk])


def listed_names(response) -> set[str]:
    """The provider names in the changelist's result rows."""
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="result_list"' in html or "0 providers" in html
    return set(re.findall(r'<th class="field-name"><a href="[^"]+">([^<]+)</a></th>', html))


def action_names(response) -> set[str]:
    html = response.content.decode()
    select = re.search(r'<select name="action"[^>]*>(.*?)</select>', html, re.S)
    assert select, "the changelist has no action menu"
    return set(re.findall(r'<option value="([^"]+)"', select.group(1)))


def location_choices(html: str, field: str) -> dict[str, str]:
    """The places offered as checkboxes for a service's locations: {value: label}."""
    pattern = rf'<input type="checkbox" name="{field}" value="(\d+)"[^>]*>\s*([^<]+?)\s*</label>'
    return dict(re.findall(pattern, html))


def messages_in(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --------------------------------------------------------------------------- list and filters


@pytest.fixture
def listed(make_complete_provider, make_provider, make_service, support_group_type, days_ago):
    """Four listings that differ in every way the list can be filtered."""
    aster = make_complete_provider("Aster Quill", status="published", last_verified=days_ago(10))
    bramble = make_provider(
        "Bramble Voss", accepting_new_clients=False, last_verified=days_ago(200)
    )
    make_service(
        bramble,
        support_type=support_group_type,
        offers_in_person=False,
        offers_online=True,
        group_weekday=Service.Weekday.MONDAY,
        group_frequency="weekly",
    )
    corin = make_complete_provider("Corin Thale", status="archived", last_verified=days_ago(400))
    dace = make_provider("Dace Murrow", email="dace@murrow.example", slug="dace-murrow")
    return {"aster": aster, "bramble": bramble, "corin": corin, "dace": dace}


ALL_NAMES = {"Aster Quill", "Bramble Voss", "Corin Thale", "Dace Murrow"}


def test_changelist_lists_everything_unfiltered(staff_client, listed):
    assert listed_names(staff_client.get(CHANGELIST)) == ALL_NAMES


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status__exact": "published"}, {"Aster Quill"}),
        ({"status__exact": "draft"}, {"Bramble Voss", "Dace Murrow"}),
        ({"status__exact": "archived"}, {"Corin Thale"}),
        ({"support_type": "counselling"}, {"Aster Quill", "Corin Thale"}),
        ({"support_type": "support-groups"}, {"Bramble Voss"}),
        ({"verified": "6m"}, {"Aster Quill"}),
        ({"verified": "12m"}, {"Bramble Voss"}),
        ({"verified": "stale"}, {"Corin Thale"}),
        ({"verified": "never"}, {"Dace Murrow"}),
        ({"accepting_new_clients__exact": "0"}, {"Bramble Voss"}),
        ({"accepting_new_clients__exact": "1"}, {"Aster Quill", "Corin Thale", "Dace Murrow"}),
        ({"q": "bramble"}, {"Bramble Voss"}),
        ({"q": "dace@murrow.example"}, {"Dace Murrow"}),
        ({"q": "dace-murrow"}, {"Dace Murrow"}),  # exact slug
        ({"q": "murrow-dace"}, set()),
        ({"status__exact": "draft", "verified": "never"}, {"Dace Murrow"}),
        ({"support_type": "counselling", "q": "corin"}, {"Corin Thale"}),
    ],
)
def test_changelist_filters_and_search(staff_client, listed, query, expected):
    response = staff_client.get(CHANGELIST, query)
    assert listed_names(response) == expected


def test_changelist_offers_the_filters(staff_client, listed):
    html = staff_client.get(CHANGELIST).content.decode()
    for link in [
        "?support_type=counselling",
        "?support_type=support-groups",
        "?verified=6m",
        "?verified=12m",
        "?verified=stale",
        "?verified=never",
        "?status__exact=published",
        "?availability=lapsed",
        "?availability=paused",
    ]:
        assert link in html, link


def test_support_type_filter_lists_a_provider_once(
    staff_client, make_complete_provider, make_service
):
    provider = make_complete_provider("Twice Counselling")
    make_service(provider, offers_in_person=False, offers_online=True)  # a second counselling
    html = staff_client.get(CHANGELIST, {"support_type": "counselling"}).content.decode()
    assert html.count(">Twice Counselling</a></th>") == 1


def test_public_page_column_links_to_the_profile(staff_client, listed):
    html = staff_client.get(CHANGELIST).content.decode()
    assert f'<a href="/providers/{listed["aster"].slug}/">View</a>' in html
    assert f'<a href="/providers/{listed["dace"].slug}/">Preview (not public)</a>' in html


# --------------------------------------------------------------------------- actions


def run_action(client, action, *providers):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [p.pk for p in providers], "index": 0},
        follow=True,
    )


def test_publish_action(staff_client, staff_user, make_complete_provider):
    first, second = make_complete_provider("First Ready"), make_complete_provider("Second Ready")
    response = run_action(staff_client, "publish", first, second)
    assert response.status_code == 200
    assert "2 listings published." in messages_in(response)
    for provider in (first, second):
        provider.refresh_from_db()
        assert provider.status == Provider.Status.PUBLISHED
        assert provider.status_changed_by == staff_user
        assert LogEntry.objects.filter(
            object_id=str(provider.pk), change_message="Published"
        ).exists()


def test_publish_action_refuses_an_incomplete_listing_with_a_message(
    staff_client, make_complete_provider, make_provider
):
    ready = make_complete_provider("Ready Listing")
    empty = make_provider("Empty Listing")
    response = run_action(staff_client, "publish", ready, empty)
    assert response.status_code == 200
    messages = messages_in(response)
    assert "1 listing published." in messages
    assert "“Empty Listing” cannot be published yet: it needs at least one service." in messages
    html = response.content.decode()
    assert 'class="error"' in html
    assert "cannot be published yet: it needs at least one service." in html
    empty.refresh_from_db()
    ready.refresh_from_db()
    assert empty.status == Provider.Status.DRAFT
    assert ready.status == Provider.Status.PUBLISHED


def test_publish_action_with_only_incomplete_listings(staff_client, make_provider):
    empty = make_provider("Nothing Here")
    response = run_action(staff_client, "publish", empty)
    assert response.status_code == 200
    assert messages_in(response) == [
        "“Nothing Here” cannot be published yet: it needs at least one service."
    ]
    empty.refresh_from_db()
    assert empty.status == Provider.Status.DRAFT


def test_unpublish_action(staff_client, staff_user, make_published_provider):
    provider = make_published_provider("Coming Down")
    response = run_action(staff_client, "unpublish", provider)
    assert "1 listing unpublished." in messages_in(response)
    provider.refresh_from_db()
    assert provider.status == Provider.Status.DRAFT
    assert provider.status_changed_by == staff_user


def test_archive_action(staff_client, staff_user, make_published_provider, make_provider):
    published, draft = make_published_provider("Old Practice"), make_provider("Never Was")
    response = run_action(staff_client, "archive", published, draft)
    assert "2 listings archived." in messages_in(response)
    for provider in (published, draft):
        provider.refresh_from_db()
        assert provider.status == Provider.Status.ARCHIVED
        assert provider.status_changed_by == staff_user


def test_mark_verified_action(staff_client, staff_user, make_provider, days_ago):
    provider = make_provider("Checked Today", last_verified=days_ago(500))
    response = run_action(staff_client, "mark_verified", provider)
    assert "1 listing marked verified." in messages_in(response)
    provider.refresh_from_db()
    assert provider.last_verified == timezone.localdate()
    assert provider.last_verified_by == staff_user
    version = Version.objects.get_for_object(provider).first()
    assert version.revision.user == staff_user


# --------------------------------------------------------------------------- permissions


def test_superuser_sees_every_action(staff_client, listed):
    assert {"publish", "unpublish", "archive", "mark_verified", "delete_selected"} <= action_names(
        staff_client.get(CHANGELIST)
    )


def test_editor_without_publish_permission_does_not_see_publishing(editor_client, listed):
    actions = action_names(editor_client.get(CHANGELIST))
    assert "mark_verified" in actions
    assert not actions & {"publish", "unpublish", "archive"}

    html = editor_client.get(change_url(listed["dace"])).content.decode()
    assert 'name="_save"' in html
    assert 'name="_publish"' not in html


def test_editor_cannot_publish_by_posting_the_action(editor_client, make_complete_provider):
    provider = make_complete_provider("Sneaky Publish")
    run_action(editor_client, "publish", provider)
    provider.refresh_from_db()
    assert provider.status == Provider.Status.DRAFT


def test_editor_save_and_publish_saves_but_does_not_publish(
    editor_client, html_form, make_complete_provider
):
    provider = make_complete_provider("Editor Edit")
    page = editor_client.get(change_url(provider)).content.decode()
    data = html_form.parse(page, "provider_form")
    data["statement"] = "Edited by an editor."
    data["_publish"] = "Save and publish"
    response = editor_client.post(change_url(provider), data)
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.statement == "Edited by an editor."
    assert provider.status == Provider.Status.DRAFT


def test_staff_change_form_offers_publish_or_unpublish(
    staff_client, make_complete_provider, make_published_provider
):
    draft_page = staff_client.get(change_url(make_complete_provider())).content.decode()
    assert '<input type="submit" value="Save and publish" name="_publish">' in draft_page
    assert 'name="_unpublish"' not in draft_page
    published_page = staff_client.get(change_url(make_published_provider())).content.decode()
    assert '<input type="submit" value="Save and unpublish" name="_unpublish">' in published_page
    assert 'name="_publish"' not in published_page


def test_save_and_unpublish(staff_client, staff_user, html_form, make_published_provider):
    provider = make_published_provider("Unpublish Me")
    data = html_form.parse(staff_client.get(change_url(provider)).content.decode(), "provider_form")
    data["_unpublish"] = "Save and unpublish"
    response = staff_client.post(change_url(provider), data, follow=True)
    assert "“Unpublish Me” is back to draft." in messages_in(response)
    provider.refresh_from_db()
    assert provider.status == Provider.Status.DRAFT
    assert provider.status_changed_by == staff_user


def test_save_and_publish_refused_keeps_the_edits(staff_client, html_form, make_provider):
    provider = make_provider("Half Done")
    data = html_form.parse(staff_client.get(change_url(provider)).content.decode(), "provider_form")
    data["statement"] = "Work in progress."
    data["_publish"] = "Save and publish"
    response = staff_client.post(change_url(provider), data, follow=True)
    assert response.status_code == 200
    assert messages_in(response) == [
        "“Half Done” cannot be published yet: it needs at least one service. Your changes were saved."
    ]
    provider.refresh_from_db()
    assert provider.statement == "Work in progress."
    assert provider.status == Provider.Status.DRAFT


# --------------------------------------------------------------------------- the staff story


def test_staff_story_add_publish_rename_and_restore(
    staff_client, staff_user, taxonomies, html_form
):
    counselling = SupportType.objects.get(slug="counselling")
    cbt = Approach.objects.get(slug="cbt")
    anxiety = Concern.objects.get(slug="anxiety")
    welsh = Language.objects.get(code="cy")

    # 1. The add page has the three inline formsets.
    add_page = staff_client.get(ADD).content.decode()
    data = html_form.parse(add_page, "provider_form")
    for prefix in ("qualifications", "locations", "services"):
        assert data[f"{prefix}-TOTAL_FORMS"] == ["0"]
        assert data[f"{prefix}-INITIAL_FORMS"] == ["0"]
    assert 'name="services-__prefix__-support_type"' in add_page
    assert 'data-field-name="approaches"' in add_page

    # 2. Fill in the listing, one qualification, one place and one service.
    data.update(
        {
            "name": "Rowan Ellery Counselling",
            "slug": "rowan-ellery",
            "kind": "individual",
            "statement": "I work with adults facing anxiety and change.",
            "practising_since": "2011",
            "languages": [str(welsh.pk)],
            "phone": "0113 496 0123",
            "email": "rowan@example.org",
        }
    )
    data.update(html_form.empty_inline(add_page, "provider_form", "qualifications", 0))
    data.update(
        {
            "qualifications-TOTAL_FORMS": "1",
            "qualifications-0-kind": "membership",
            "qualifications-0-title": "Registered member MBACP",
            "qualifications-0-issuer": "BACP",
            "qualifications-0-year": "2012",
        }
    )
    data.update(html_form.empty_inline(add_page, "provider_form", "locations", 0))
    data.update(
        {
            "locations-TOTAL_FORMS": "1",
            "locations-0-name": "Chapel Allerton rooms",
            "locations-0-address_line1": "7 Hidden Lane",
            "locations-0-town": "Leeds",
            "locations-0-postcode": "LS7 4NZ",
        }
    )
    data.update(html_form.empty_inline(add_page, "provider_form", "services", 0))
    data.update(
        {
            "services-TOTAL_FORMS": "1",
            "services-0-support_type": str(counselling.pk),
            "services-0-name": "Short-term counselling",
            "services-0-approaches": [str(cbt.pk)],
            "services-0-concerns": [str(anxiety.pk)],
            "services-0-fee_min": "45",
            "services-0-fee_max": "60",
        }
    )
    response = staff_client.post(ADD, {**data, "_save": "Save"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    provider = Provider.objects.get(slug="rowan-ellery")
    assert provider.status == Provider.Status.DRAFT
    assert list(provider.languages.all()) == [welsh]
    assert provider.qualifications.get().title == "Registered member MBACP"
    location = provider.locations.get()
    service = provider.services.get()
    assert service.support_type == counselling
    assert list(service.approaches.all()) == [cbt]
    assert list(service.concerns.all()) == [anxiety]
    assert not service.locations.exists()  # a new location can only be chosen after saving

    # The public cannot see a draft.
    anonymous = Client()
    assert anonymous.get("/providers/rowan-ellery/").status_code == 404

    # 3. On the change page the place can be chosen; save and publish.
    change_page = staff_client.get(change_url(provider)).content.decode()
    data = html_form.parse(change_page, "provider_form")
    assert data["services-INITIAL_FORMS"] == ["1"]
    assert location_choices(change_page, "services-0-locations") == {
        str(location.pk): "Chapel Allerton rooms"
    }
    data["services-0-locations"] = [str(location.pk)]
    response = staff_client.post(
        change_url(provider), {**data, "_publish": "Save and publish"}, follow=True
    )
    assert "“Rowan Ellery Counselling” is published." in messages_in(response)
    provider.refresh_from_db()
    assert provider.status == Provider.Status.PUBLISHED
    assert provider.status_changed_by == staff_user
    assert list(service.locations.all()) == [location]

    # 4. The public page.
    public = anonymous.get("/providers/rowan-ellery/")
    assert public.status_code == 200
    html = public.content.decode()
    assert "<h1>Rowan Ellery Counselling</h1>" in html
    assert "Leeds, LS7" in html
    assert "Hidden Lane" not in html
    assert "Registered member MBACP" in html

    # 5. Change the name.
    data = html_form.parse(staff_client.get(change_url(provider)).content.decode(), "provider_form")
    data["name"] = "Rowan Ellery Therapy"
    response = staff_client.post(change_url(provider), {**data, "_save": "Save"})
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.name == "Rowan Ellery Therapy"
    assert (
        "<h1>Rowan Ellery Therapy</h1>"
        in anonymous.get("/providers/rowan-ellery/").content.decode()
    )

    # 6. Restore the version before the rename from the history.
    versions = list(Version.objects.get_for_object(provider))
    assert [v.field_dict["name"] for v in versions] == [
        "Rowan Ellery Therapy",
        "Rowan Ellery Counselling",
        "Rowan Ellery Counselling",
    ]
    assert all(v.revision.user == staff_user for v in versions)
    earlier = versions[1]
    assert earlier.field_dict["status"] == Provider.Status.PUBLISHED

    history = staff_client.get(reverse("admin:services_provider_history", args=[provider.pk]))
    revision_url = reverse("admin:services_provider_revision", args=[provider.pk, earlier.pk])
    assert revision_url in history.content.decode()

    revision_page = staff_client.get(revision_url)
    assert revision_page.status_code == 200
    revision_html = revision_page.content.decode()
    assert 'value="Rowan Ellery Counselling"' in revision_html
    # Looking at an old version changes nothing.
    provider.refresh_from_db()
    assert provider.name == "Rowan Ellery Therapy"

    data = html_form.parse(revision_html, "provider_form")
    # The service's place is offered and chosen on the old version's form too.
    assert data["services-0-locations"] == [str(location.pk)]
    assert data["name"] == ["Rowan Ellery Counselling"]
    response = staff_client.post(revision_url, {**data, "_save": "Save"})
    assert response.status_code == 302

    provider.refresh_from_db()
    assert provider.name == "Rowan Ellery Counselling"
    assert provider.status == Provider.Status.PUBLISHED
    assert list(provider.services.get().locations.all()) == [location]
    latest = Version.objects.get_for_object(provider).first()
    assert latest.revision.comment.startswith("Reverted to previous version")
    public = anonymous.get("/providers/rowan-ellery/").content.decode()
    assert "<h1>Rowan Ellery Counselling</h1>" in public
    assert "Rowan Ellery Therapy" not in public


def test_add_form_shows_inline_errors(staff_client, html_form, counselling):
    add_page = staff_client.get(ADD).content.decode()
    data = html_form.parse(add_page, "provider_form")
    data.update({"name": "Fee Muddle", "slug": "fee-muddle", "email": "fee@example.org"})
    data.update(html_form.empty_inline(add_page, "provider_form", "services", 0))
    data.update(
        {
            "services-TOTAL_FORMS": "1",
            "services-0-support_type": str(counselling.pk),
            "services-0-fee_min": "80",
            "services-0-fee_max": "40",
        }
    )
    response = staff_client.post(ADD, {**data, "_save": "Save"})
    assert response.status_code == 200
    assert "The highest fee cannot be below the lowest." in response.content.decode()
    assert not Provider.objects.filter(slug="fee-muddle").exists()


def test_service_locations_offer_only_the_listings_own_places(
    staff_client, make_complete_provider, make_location
):
    mine = make_complete_provider("Own Places")
    theirs = make_complete_provider("Other Places")
    own = make_location(mine, name="Second own room")
    other = make_location(theirs, name="Somebody else's room")
    html = staff_client.get(change_url(mine)).content.decode()
    choices = location_choices(html, "services-0-locations")
    assert choices[str(own.pk)] == "Second own room"
    assert str(other.pk) not in choices
    assert len(choices) == 2


# --------------------------------------------------------------------------- deleting services


def delete_all_services(client, html_form, provider):
    data = html_form.parse(client.get(change_url(provider)).content.decode(), "provider_form")
    total = int(data["services-TOTAL_FORMS"][0])
    assert total >= 1
    for index in range(total):
        data[f"services-{index}-DELETE"] = "on"
    return client.post(change_url(provider), {**data, "_save": "Save"})


def test_cannot_delete_the_last_service_of_a_published_listing(
    staff_client, html_form, make_published_provider
):
    provider = make_published_provider("Keep My Service")
    service = provider.services.get()
    response = delete_all_services(staff_client, html_form, provider)
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "A published listing needs at least one service. Add one, or unpublish the listing first."
        in html
    )
    assert Service.objects.filter(pk=service.pk).exists()


def test_can_delete_the_last_service_of_a_draft(staff_client, html_form, make_complete_provider):
    provider = make_complete_provider("Draft Without Service")
    response = delete_all_services(staff_client, html_form, provider)
    assert response.status_code == 302
    assert not provider.services.exists()


# --------------------------------------------------------------------------- autocomplete


def test_approach_autocomplete_answers_json(staff_client, taxonomies):
    response = staff_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "services",
            "model_name": "service",
            "field_name": "approaches",
            "term": "cog",
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    cbt = Approach.objects.get(slug="cbt")
    assert {"id": str(cbt.pk), "text": "Cognitive behavioural therapy (CBT)"} in body["results"]
    assert "EMDR" not in {result["text"] for result in body["results"]}
    assert body["pagination"] == {"more": False}


def test_support_type_autocomplete_for_an_editor(editor_client, taxonomies):
    response = editor_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "services",
            "model_name": "service",
            "field_name": "support_type",
            "term": "group",
        },
    )
    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["Support groups"]


def test_autocomplete_refuses_anonymous_users(client, taxonomies):
    response = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "services",
            "model_name": "service",
            "field_name": "approaches",
            "term": "cog",
        },
    )
    assert response.status_code in (302, 403)
    assert "Cognitive" not in response.content.decode()


# --------------------------------------------------------------------------- paging


def test_paginator_count_is_capped(monkeypatch, make_provider):
    monkeypatch.setattr(admin_paging, "COUNT_CAP", 3)
    for _ in range(5):
        make_provider()
    filtered = LargeTablePaginator(Provider.objects.filter(status="draft").order_by("pk"), 2)
    assert filtered.count == 3
    assert filtered.num_pages == 2
    unfiltered = LargeTablePaginator(Provider.objects.order_by("pk"), 2)
    assert unfiltered.count == 3  # an empty table's statistics are not trusted
    below_cap = LargeTablePaginator(Provider.objects.filter(name="nobody").order_by("pk"), 2)
    assert below_cap.count == 0


def test_changelist_uses_the_capped_count(monkeypatch, staff_client, make_provider):
    monkeypatch.setattr(admin_paging, "COUNT_CAP", 3)
    for _ in range(5):
        make_provider()
    response = staff_client.get(CHANGELIST)
    assert response.status_code == 200
    changelist = response.context["cl"]
    assert isinstance(changelist.paginator, LargeTablePaginator)
    assert changelist.result_count == 3


def test_paginator_estimates_a_large_unfiltered_table_on_postgresql_only(
    monkeypatch, make_provider
):
    monkeypatch.setattr(admin_paging, "COUNT_CAP", 3)
    monkeypatch.setattr(admin_paging, "_estimated_rows", lambda table: 123_456)
    for _ in range(4):
        make_provider()
    unfiltered = LargeTablePaginator(Provider.objects.order_by("pk"), 50).count
    # PostgreSQL answers from its statistics; SQLite (small, local) counts up to the cap.
    assert unfiltered == (123_456 if connection.vendor == "postgresql" else 3)
    # A filtered list is counted, never estimated.
    assert (
        LargeTablePaginator(Provider.objects.filter(status="draft").order_by("pk"), 50).count == 3
    )


def test_estimated_rows_follows_the_table_statistics(make_provider):
    for _ in range(5):
        make_provider()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Provider._meta.db_table}")
        assert admin_paging._estimated_rows(Provider._meta.db_table) == 5
    else:
        assert LargeTablePaginator(Provider.objects.order_by("pk"), 50).count == 5


# --------------------------------------------------------------------------- no lost edits


def test_two_staff_editing_one_listing_the_second_save_is_refused_and_kept(
    staff_user, editor, html_form, make_complete_provider
):
    provider = make_complete_provider("Shared Listing", statement="The original words.")
    first, second = Client(), Client()
    first.force_login(staff_user)
    second.force_login(editor)
    # Both open the same listing.
    first_data = html_form.parse(first.get(change_url(provider)).content.decode(), "provider_form")
    second_data = html_form.parse(
        second.get(change_url(provider)).content.decode(), "provider_form"
    )
    assert first_data["opened_at_version"] == second_data["opened_at_version"] == ["0"]

    first_data["statement"] = "The first editor's words."
    assert first.post(change_url(provider), {**first_data, "_save": "Save"}).status_code == 302

    second_data["statement"] = "The second editor's words."
    second_data["phone"] = "0113 496 0999"
    refused = second.post(change_url(provider), {**second_data, "_save": "Save"})
    assert refused.status_code == 200
    html = refused.content.decode()
    assert "Someone else saved this listing after you opened it" in html
    # Nothing of the second save reached the database...
    provider.refresh_from_db()
    assert provider.statement == "The first editor's words."
    assert provider.phone == "0113 496 0000"
    assert provider.edit_version == 1
    # ...and everything the second editor typed is still in the form.
    kept = html_form.parse(html, "provider_form")
    assert kept["statement"] == ["The second editor's words."]
    assert kept["phone"] == ["0113 496 0999"]
    assert kept["opened_at_version"] == ["1"]

    # Having seen the newer version, saving again keeps the second editor's changes.
    assert second.post(change_url(provider), {**kept, "_save": "Save"}).status_code == 302
    provider.refresh_from_db()
    assert provider.statement == "The second editor's words."
    assert provider.edit_version == 2


def test_a_form_without_its_version_is_refused(staff_client, html_form, make_complete_provider):
    provider = make_complete_provider("No Version")
    data = html_form.parse(staff_client.get(change_url(provider)).content.decode(), "provider_form")
    del data["opened_at_version"]
    data["statement"] = "Edited."
    response = staff_client.post(change_url(provider), {**data, "_save": "Save"})
    assert response.status_code == 200
    assert "Someone else saved this listing" in response.content.decode()
    provider.refresh_from_db()
    assert provider.statement == ""


def test_actions_between_opening_and_saving_do_not_refuse_the_edit(
    staff_client, html_form, make_complete_provider
):
    """Publishing and verifying change no field of the form, so they do not bump the version."""
    provider = make_complete_provider("Action Meanwhile")
    data = html_form.parse(staff_client.get(change_url(provider)).content.decode(), "provider_form")
    run_action(staff_client, "mark_verified", provider)
    data["statement"] = "Still saved."
    assert staff_client.post(change_url(provider), {**data, "_save": "Save"}).status_code == 302
    provider.refresh_from_db()
    assert provider.statement == "Still saved."
    assert provider.last_verified == timezone.localdate()


@pytest.mark.django_db(transaction=True)
def test_two_saves_at_the_same_moment_the_second_waits_and_is_refused(
    staff_user, editor, html_form, make_complete_provider, monkeypatch
):
    """PostgreSQL: the lock is held from the check to the commit, so two saves cannot both pass."""
    import threading

    from django.db import connections

    from services.admin import ProviderAdmin

    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes one writer at a time anyway; the row lock is PostgreSQL's.")
    provider = make_complete_provider("Raced Listing")
    clients = {}
    for name, user in (("first", staff_user), ("second", editor)):
        clients[name] = Client()
        clients[name].force_login(user)
    forms = {
        name: html_form.parse(client.get(change_url(provider)).content.decode(), "provider_form")
        for name, client in clients.items()
    }

    first_holds_the_lock, let_first_finish = threading.Event(), threading.Event()
    real_save_model = ProviderAdmin.save_model

    def slow_save_model(self, request, obj, form, change):
        if request.user == staff_user:
            first_holds_the_lock.set()
            let_first_finish.wait(10)
        return real_save_model(self, request, obj, form, change)

    monkeypatch.setattr(ProviderAdmin, "save_model", slow_save_model)
    responses = {}

    def save(name, statement):
        try:
            data = {**forms[name], "statement": statement, "_save": "Save"}
            responses[name] = clients[name].post(change_url(provider), data)
        finally:
            connections.close_all()

    first = threading.Thread(target=save, args=("first", "First words."))
    second = threading.Thread(target=save, args=("second", "Second words."))
    first.start()
    assert first_holds_the_lock.wait(10)
    second.start()
    second.join(1)
    assert second.is_alive(), "the second save should wait for the first one's lock"
    let_first_finish.set()
    first.join(10)
    second.join(10)
    assert responses["first"].status_code == 302
    assert responses["second"].status_code == 200
    assert "Someone else saved this listing" in responses["second"].content.decode()
    provider.refresh_from_db()
    assert (provider.statement, provider.edit_version) == ("First words.", 1)
