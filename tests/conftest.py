"""Shared fixtures: factories for listings and users, the taxonomy fixture, no network."""

import datetime
import importlib
import ipaddress
import os
import socket
import uuid
from decimal import Decimal
from html.parser import HTMLParser
from itertools import count

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.template import Context
from django.template.backends.jinja2 import Template as Jinja2Template
from django.test.signals import template_rendered
from django.test.utils import override_settings
from django.utils.text import slugify

from services.indexing import search_index_update
from services.models import (
    AgeGroup,
    Approach,
    Concern,
    Gender,
    Language,
    Location,
    Provider,
    Qualification,
    Service,
    SupportType,
)

# --------------------------------------------------------------------------- templates


@pytest.fixture(autouse=True)
def _jinja_context_in_responses(monkeypatch):
    """response.context holds the Jinja2 body's context, as Django's test set-up arranges for
    its own templates (it signals each one rendered): the results page's frame is rendered
    once per process (services/page_frame.py), so its context is not the page's."""
    rendered = Jinja2Template.render

    def render(self, context=None, request=None):
        html = rendered(self, context, request)
        template_rendered.send(sender=self, template=self, context=Context(context or {}))
        return html

    monkeypatch.setattr(Jinja2Template, "render", render)


# --------------------------------------------------------------------------- background work


@pytest.fixture(autouse=True, scope="session")
def _tasks_run_at_once():
    """Background tasks run in the test's process, at once, as Django's ImmediateBackend
    does; tests/test_outbox.py runs the real worker against a database of its own."""
    with override_settings(
        TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    ):
        yield


# --------------------------------------------------------------------------- network


def _is_local(address) -> bool:
    if isinstance(address, str | bytes):  # a Unix socket path
        return True
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Refuse connections to anything but this machine (the local PostgreSQL is fine)."""
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        if not _is_local(address):
            raise OSError(f"Network access is blocked in tests (tried {address!r}).")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


# --------------------------------------------------------------------------- taxonomies


@pytest.fixture
def taxonomies(db):
    """The real vocabularies shipped in fixtures/taxonomies.json."""
    call_command("loaddata", settings.BASE_DIR / "fixtures" / "taxonomies.json", verbosity=0)


_sequence = count(1)


@pytest.fixture
def make_term(db):
    """make_term(SupportType, "Counselling", is_group=False) -> a saved taxonomy term.

    An existing term with the same slug is returned as it is, so tests can use the
    names in fixtures/taxonomies.json with or without loading it.
    """

    def make(model, name, **fields):
        slug = fields.pop("slug", slugify(name))
        if model.__name__ == "Language":
            fields.setdefault("code", slug[:12])
        if model.__name__ == "AgeGroup":
            fields.setdefault("min_age", 0)
        term, _ = model.objects.get_or_create(slug=slug, defaults={"name": name, **fields})
        return term

    return make


@pytest.fixture
def counselling(make_term):
    return make_term(SupportType, "Counselling", summary="Talking through a difficulty.")


@pytest.fixture
def support_group_type(make_term):
    return make_term(SupportType, "Support groups", slug="support-groups", is_group=True)


# --------------------------------------------------------------------------- listings


@pytest.fixture
def make_provider(db):
    """make_provider(name=..., **fields) -> a saved draft provider with an email address.

    Saved with .save(), not full_clean(): tests decide what is valid.
    """

    def make(name=None, **fields):
        number = next(_sequence)
        name = name or f"Provider {number}"
        fields.setdefault("slug", f"{slugify(name)}-{number}")
        fields.setdefault("email", f"hello{number}@example.org")
        return Provider.objects.create(name=name, **fields)

    return make


@pytest.fixture
def make_location(db):
    def make(provider, **fields):
        values = {
            "name": "Headingley practice",
            "address_line1": "12 Otley Road",
            "town": "Leeds",
            "postcode": "LS6 3AB",
        }
        values.update(fields)
        return Location.objects.create(provider=provider, **values)

    return make


@pytest.fixture
def make_service(db, make_term):
    """make_service(provider, support_type=None, locations=(), **fields) -> a saved service."""

    def make(provider, support_type=None, locations=(), **fields):
        support_type = support_type or make_term(SupportType, "Counselling")
        service = Service.objects.create(provider=provider, support_type=support_type, **fields)
        if locations:
            service.locations.set(locations)
        return service

    return make


@pytest.fixture
def make_qualification(db):
    def make(provider, **fields):
        values = {
            "kind": Qualification.Kind.LICENCE,
            "title": "Registered member",
            "issuer": "BACP",
            "year": 2010,
        }
        values.update(fields)
        return Qualification.objects.create(provider=provider, **values)

    return make


@pytest.fixture
def make_complete_provider(
    make_provider, make_location, make_service, make_qualification, make_term
):
    """A draft listing that meets every rule for publication.

    It has a contact (phone and email), a qualification, a location, and an
    in-person counselling service offered at that location.
    """

    def make(name=None, **fields):
        fields.setdefault("phone", "0113 496 0000")
        fields.setdefault("practising_since", 2008)
        provider = make_provider(name=name, **fields)
        make_qualification(provider)
        location = make_location(provider)
        service = make_service(
            provider,
            support_type=make_term(SupportType, "Counselling"),
            offers_in_person=True,
            fee_min=Decimal("40"),
            fee_max=Decimal("60"),
        )
        service.locations.set([location])
        service.approaches.add(make_term(Approach, "Person-centred therapy"))
        service.concerns.add(make_term(Concern, "Anxiety"))
        return provider

    return make


@pytest.fixture
def make_published_provider(make_complete_provider):
    """A complete listing, published (directly, without the listings service)."""

    def make(name=None, **fields):
        provider = make_complete_provider(name=name, **fields)
        provider.status = Provider.Status.PUBLISHED
        provider.save(update_fields=["status"])
        return provider

    return make


# --------------------------------------------------------------------------- search

# Two cities about 58 km apart, for distances and radii.
LEEDS = (53.8008, -1.5491)
MANCHESTER = (53.4808, -2.2426)


# tests/declared runs only under its own settings (tests/test_declaration.py starts it).
collect_ignore = (
    [] if os.environ.get("DJANGO_SETTINGS_MODULE") == "tests.declared.settings" else ["declared"]
)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: taxonomy options, synonyms and the
    in-memory listing index (which tests must see follow every change)."""
    from django.core.cache import cache

    from services.memo import Memo
    from services.search import listing_index

    cache.clear()
    Memo.forget_all()
    listing_index.forget()
    yield
    cache.clear()
    Memo.forget_all()


@pytest.fixture
def synonyms(db):
    """The search synonyms shipped in fixtures/synonyms.json."""
    from services.search.text import forget_synonyms

    call_command("loaddata", settings.BASE_DIR / "fixtures" / "synonyms.json", verbosity=0)
    forget_synonyms()


@pytest.fixture
def everyday_words(taxonomies):
    """The everyday phrases shipped in fixtures/everyday_words.json."""
    call_command("loaddata", settings.BASE_DIR / "fixtures" / "everyday_words.json", verbosity=0)


@pytest.fixture
def index(db):
    """index(*providers or ids): rebuild their search document, vector and result card.

    Needed after creating or changing listings and before searching or rendering /find/.
    """

    def update(*providers):
        search_index_update([getattr(p, "pk", p) for p in providers])

    return update


@pytest.fixture
def make_listing(taxonomies, make_provider, make_location, make_service, make_qualification, index):
    """make_listing("Name", services=[{...}], places=[...], ...) -> a published, indexed provider.

    Terms are the slugs of fixtures/taxonomies.json. Each service is a dict of
    `type` (default "counselling"), `concerns`, `approaches`, `age_groups` (slugs),
    `formats` (default ["in_person"] when the provider has places, else ["online"]),
    `languages` (its own, as a group's)
    and any other Service field (fee_min, sliding_scale, ...). An in-person service is
    offered at every place. `places` is a list of (town, latitude, longitude) or of
    dicts of Location fields; `languages` and `gender` are slugs; `licence_verified_on`
    adds a licence checked on that date; other keywords are Provider fields.
    """

    def make(
        name=None,
        *,
        services=({},),
        places=(),
        languages=(),
        gender=None,
        qualifications=(),
        licence_verified_on=None,
        status=Provider.Status.PUBLISHED,
        indexed=True,
        **fields,
    ):
        if gender is not None:
            fields["gender"] = Gender.objects.get(slug=gender)
        provider = make_provider(name=name, status=status, **fields)
        locations = []
        for place in places:
            if isinstance(place, dict):
                values = dict(place)
            else:
                town, latitude, longitude = place
                values = {"town": town, "latitude": latitude, "longitude": longitude}
            values.setdefault("name", "")
            locations.append(make_location(provider, **values))
        for spec in services:
            spec = dict(spec)
            support_type = SupportType.objects.get(slug=spec.pop("type", "counselling"))
            concerns = spec.pop("concerns", ())
            approaches = spec.pop("approaches", ())
            age_groups = spec.pop("age_groups", ())
            own_languages = spec.pop("languages", ())
            formats = spec.pop("formats", ["in_person"] if locations else ["online"])
            spec.update(
                offers_in_person="in_person" in formats,
                offers_online="online" in formats,
                offers_phone="phone" in formats,
            )
            service = make_service(
                provider,
                support_type=support_type,
                locations=locations if "in_person" in formats else (),
                **spec,
            )
            service.concerns.set(Concern.objects.filter(slug__in=concerns))
            service.approaches.set(Approach.objects.filter(slug__in=approaches))
            service.age_groups.set(AgeGroup.objects.filter(slug__in=age_groups))
            service.languages.set(Language.objects.filter(slug__in=own_languages))
        if languages:
            provider.languages.set(Language.objects.filter(slug__in=languages))
        for qualification in qualifications:
            make_qualification(provider, **qualification)
        if licence_verified_on is not None:
            make_qualification(
                provider, kind=Qualification.Kind.LICENCE, verified_on=licence_verified_on
            )
        if indexed:
            index(provider)
            provider.refresh_from_db()
        return provider

    return make


# --------------------------------------------------------------------------- users

# The editor role as migration 0015 makes it, with what later migrations add.
EDITOR_GROUP = importlib.import_module("services.migrations.0015_editor_group")
EDITOR_PERMISSIONS = [
    *EDITOR_GROUP.EDITOR_PERMISSIONS,
    *importlib.import_module("services.migrations.0016_outbox").EDITOR_PERMISSIONS_ADDED,
]


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser(
        username="staff", email="staff@example.org", password="a-long-test-password"
    )


@pytest.fixture
def editor(django_user_model):
    """Staff in the "editor" group (migration 0015): they edit and verify listings and
    moderate recommendations and reports, but may not publish, or manage users."""
    user = django_user_model.objects.create_user(
        username="editor", email="editor@example.org", password="a-long-test-password"
    )
    user.is_staff = True
    user.save()
    group, made = Group.objects.get_or_create(name=EDITOR_GROUP.EDITOR_GROUP)
    if made:
        # A transactional test emptied the tables, and the group with them; the
        # permissions themselves come back after each flush, the group does not.
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="services", codename__in=EDITOR_PERMISSIONS
            )
        )
    user.groups.add(group)
    return user


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


# --------------------------------------------------------------------------- dates


@pytest.fixture
def days_ago():
    from django.utils import timezone

    def ago(days: int) -> datetime.date:
        return timezone.localdate() - datetime.timedelta(days=days)

    return ago


# --------------------------------------------------------------------------- HTML forms


class _FormParser(HTMLParser):
    """Collects what a browser would submit from each <form>, keyed by the form's id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, list[str]]] = {}
        self._form = None
        self._select = None  # [name, multiple, selected values, first option value]
        self._option_value = None
        self._option_text = None
        self._textarea = None  # [name, text]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = self.forms.setdefault(attrs.get("id") or f"form{len(self.forms)}", {})
            return
        if self._form is None or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self._form.setdefault(name, []).append(attrs.get("value") or "on")
                return
            self._form.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "select" and name:
            self._select = [name, "multiple" in attrs, [], None]
        elif tag == "option" and self._select is not None:
            self._option_value = attrs.get("value")
            self._option_text = ""
            if self._select[3] is None:
                self._select[3] = self._option_value
            if "selected" in attrs:
                self._select[2].append(self._option_value)
        elif tag == "textarea" and name:
            self._textarea = [name, ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, multiple, selected, first = self._select
            if selected:
                self._form.setdefault(name, []).extend(v or "" for v in selected)
            elif not multiple and first is not None:
                self._form.setdefault(name, []).append(first)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            # Browsers drop one newline right after <textarea>; Django's widget adds one.
            self._form.setdefault(name, []).append(text.removeprefix("\r\n").removeprefix("\n"))
            self._textarea = None


def parse_form(html: str, form_id: str) -> dict[str, list[str]]:
    """The fields a browser would post from the form with this id (empty forms' templates left out)."""
    parser = _FormParser()
    parser.feed(html)
    assert form_id in parser.forms, f"no form #{form_id}; found {sorted(parser.forms)}"
    return {
        name: values
        for name, values in parser.forms[form_id].items()
        if "__prefix__" not in name and name != "csrfmiddlewaretoken"
    }


def empty_inline_form(html: str, form_id: str, prefix: str, index: int) -> dict[str, list[str]]:
    """An inline's blank form ("__prefix__" template) with its defaults, numbered `index`."""
    parser = _FormParser()
    parser.feed(html)
    template = f"{prefix}-__prefix__-"
    return {
        name.replace(template, f"{prefix}-{index}-"): values
        for name, values in parser.forms[form_id].items()
        if name.startswith(template)
    }


@pytest.fixture
def html_form():
    """Access to parse_form / empty_inline_form from tests."""

    class Forms:
        parse = staticmethod(parse_form)
        empty_inline = staticmethod(empty_inline_form)

    return Forms


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path_factory):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests look right after a change: every page reads the change log, and the index
    # applies what changed in the same request.
    settings.LISTING_INDEX_FOLLOW = "inline"
    # WhiteNoise warns on every client when `collectstatic` has not been run.
    settings.STATIC_ROOT = tmp_path_factory.getbasetemp() / "staticfiles"
    settings.STATIC_ROOT.mkdir(exist_ok=True)


@pytest.fixture
def fresh_database_url(tmp_path):
    """A database of its own, of the kind this run tests, for processes outside the test."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'worker.sqlite3'}"
        return
    params = connection.get_connection_params()
    name = f"worker_check_{uuid.uuid4().hex[:12]}"
    admin = {k: params[k] for k in ("host", "port", "user", "password") if params.get(k)}
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    user = params.get("user", "postgres")
    yield f"postgres://{user}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{name}"
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
