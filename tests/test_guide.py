"""The guide: each criterion explained, and the four-step form that builds a search."""

import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command

from services.guide import STEPS
from services.models import (
    AgeGroup,
    Approach,
    Community,
    Concern,
    Gender,
    Language,
    SearchSynonym,
    SupportType,
)

pytestmark = pytest.mark.django_db

CRITERIA = [
    "type",
    "specialisation",
    "qualifications",
    "experience",
    "rapport",
    "accessibility",
    "recommendations",
]
SEARCH_PARAMETERS = {
    "concern",
    "type",
    "age_group",
    "near",
    "radius",
    "format",
    "language",
    "max_fee",
    "sliding_scale",
    "free",
    "accepting",
    "starts_within",
    "gender",
}
QUERIES_PER_STEP = 5  # concerns, support types, age groups, languages, genders


class Page(HTMLParser):
    """What the tests look at in a page: elements with ids, form controls, labels, headings."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.controls: list[dict] = []  # inputs and selects, with their attributes
        self.label_for: set[str] = set()
        self.h1_count = 0
        self.fieldsets = 0
        self.legends = 0
        self.links: dict[str, str] = {}  # text -> href
        self.described_by: list[str] = []  # every aria-describedby, on any element
        self._link = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {name: value if value is not None else "" for name, value in attrs}
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if "aria-describedby" in attrs:
            self.described_by.append(attrs["aria-describedby"])
        if tag in {"input", "select", "textarea"}:
            self.controls.append({"tag": tag, **attrs})
        elif tag == "label" and "for" in attrs:
            self.label_for.add(attrs["for"])
        elif tag == "h1":
            self.h1_count += 1
        elif tag == "fieldset":
            self.fieldsets += 1
        elif tag == "legend":
            self.legends += 1
        elif tag == "a":
            self._link = [attrs.get("href", ""), ""]

    def handle_data(self, data):
        if self._link is not None:
            self._link[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            self.links[" ".join(self._link[1].split())] = self._link[0]
            self._link = None

    def visible_controls(self, name=None) -> list[dict]:
        return [
            control
            for control in self.controls
            if control.get("type") != "hidden" and (name is None or control.get("name") == name)
        ]

    def hidden(self, name: str) -> list[str]:
        return [
            control["value"]
            for control in self.controls
            if control.get("type") == "hidden" and control.get("name") == name
        ]


def guide(client, data=None, status=200):
    response = client.get("/guide/", data or {})
    assert response.status_code == status, response.content.decode()[:2000]
    return response.content.decode()


def submit(client, html_form, html, changes=None):
    """Submit the guide form as a browser would, with some answers changed."""
    data = html_form.parse(html, "guide")
    data.update(changes or {})
    return client.get("/guide/", data)


def assert_accessible(page: Page):
    assert page.h1_count == 1
    for control in page.visible_controls():
        assert control.get("id") in page.label_for, f"no label for {control}"
    assert page.fieldsets == page.legends
    for described_by in page.described_by:
        for id_ in described_by.split():
            assert id_ in page.ids, f"aria-describedby points at a missing id: {id_}"


# --------------------------------------------------------------------------- the page


def test_guide_explains_every_criterion_and_starts_the_form(client, taxonomies):
    html = guide(client)
    page = Page(html)
    assert page.h1_count == 1
    assert "<h1>Choosing the right support</h1>" in html
    assert "<title>Choosing the right support · " in html
    for criterion in CRITERIA:
        assert f'<section id="criterion-{criterion}"' in html
        assert f'id="criterion-{criterion}-heading"' in html
        assert f"#criterion-{criterion}" in page.links.values()
        section = html.split(f'<section id="criterion-{criterion}"', 1)[1].split("</section>", 1)[0]
        assert "What this directory shows" in section
    for support_type in SupportType.objects.all():
        assert support_type.summary in html
    assert "Step 1 of 4" in html
    assert_accessible(page)


def test_step_one_offers_every_concern(client, taxonomies):
    page = Page(guide(client))
    offered = [c["value"] for c in page.visible_controls("concern") if c["type"] == "checkbox"]
    assert offered == list(Concern.objects.values_list("slug", flat=True))
    assert page.hidden("step") == ["2"]
    assert "Back" not in page.links


# --------------------------------------------------------------------------- the steps


def test_each_step_shows_its_questions_and_carries_earlier_answers(client, taxonomies, html_form):
    # Step 1 -> 2
    html = guide(client)
    response = submit(client, html_form, html, {"concern": ["grief", "anxiety"]})
    assert response.status_code == 200
    html = response.content.decode()
    page = Page(html)
    assert "Step 2 of 4" in html
    assert "What kind of support?" in html
    assert sorted(page.hidden("concern")) == ["anxiety", "grief"]
    assert page.visible_controls("concern") == []
    types = [c["value"] for c in page.visible_controls("type")]
    assert types == [*SupportType.objects.values_list("slug", flat=True), "not-sure"]
    ages = [c["value"] for c in page.visible_controls("age_group")]
    assert ages == ["", *AgeGroup.objects.values_list("slug", flat=True)]
    assert "I’m not sure yet" in html
    assert "play therapy helps children through play" in html
    assert_accessible(page)

    # Step 2 -> 3
    response = submit(client, html_form, html, {"type": ["counselling"], "age_group": ["adults"]})
    html = response.content.decode()
    page = Page(html)
    assert response.status_code == 200
    assert "Step 3 of 4" in html
    assert sorted(page.hidden("concern")) == ["anxiety", "grief"]
    assert page.hidden("type") == ["counselling"]
    assert page.hidden("age_group") == ["adults"]
    assert [c["name"] for c in page.visible_controls()] == [
        "near",
        "radius",
        "format",
        "format",
        "format",
    ]
    assert '<option value="10" selected>10 km</option>' in html  # the usual distance
    assert_accessible(page)

    # Step 3 -> 4
    response = submit(
        client,
        html_form,
        html,
        {"near": ["Leeds"], "radius": ["25"], "format": ["in_person", "online"]},
    )
    html = response.content.decode()
    page = Page(html)
    assert response.status_code == 200
    assert "Step 4 of 4" in html
    assert page.hidden("near") == ["Leeds"]
    assert page.hidden("radius") == ["25"]
    assert page.hidden("format") == ["in_person", "online"]
    assert {c["name"] for c in page.visible_controls()} == {
        "language",
        "max_fee",
        "sliding_scale",
        "free",
        "accepting",
        "starts_within",
        "gender",
    }
    assert page.hidden("step") == ["done"]
    assert "Show matching support" in html
    assert_accessible(page)

    # Step 4 -> results
    response = submit(
        client,
        html_form,
        html,
        {
            "language": ["spanish"],
            "max_fee": ["45"],
            "sliding_scale": ["1"],
            "accepting": ["1"],
            "starts_within": ["2"],
        },
    )
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert url.path == "/find/"
    assert parse_qs(url.query) == {
        "concern": ["grief", "anxiety"],
        "type": ["counselling"],
        "age_group": ["adults"],
        "near": ["Leeds"],
        "radius": ["25"],
        "format": ["in_person", "online"],
        "language": ["spanish"],
        "max_fee": ["45"],
        "sliding_scale": ["1"],
        "accepting": ["1"],
        "starts_within": ["2"],
    }


def test_back_keeps_every_answer(client, taxonomies, html_form):
    answers = {
        "concern": ["grief", "trauma"],
        "type": ["psychotherapy", "art-therapy"],
        "age_group": "young-people",
        "near": "LS6 3AB",
        "radius": "50",
        "format": ["online"],
    }
    page = Page(guide(client, {"step": "3", **answers}))
    back = page.links["Back"]
    assert back.endswith("#guide-form")
    query = parse_qs(urlsplit(back).query)
    assert query.pop("step") == ["2"]
    assert query == {
        key: value if isinstance(value, list) else [value] for key, value in answers.items()
    }

    html = guide(client, {k: v[0] if len(v) == 1 else v for k, v in query.items()} | {"step": "2"})
    page = Page(html)
    checked = {(c["name"], c["value"]) for c in page.visible_controls() if "checked" in c}
    assert checked == {
        ("type", "psychotherapy"),
        ("type", "art-therapy"),
        ("age_group", "young-people"),
    }
    assert sorted(page.hidden("concern")) == ["grief", "trauma"]
    # Later answers travel too, so going forward again finds them filled in.
    assert page.hidden("near") == ["LS6 3AB"]
    assert page.hidden("radius") == ["50"]

    html = submit(client, html_form, html).content.decode()
    page = Page(html)
    assert "Step 3 of 4" in html
    near = page.visible_controls("near")[0]
    assert near["value"] == "LS6 3AB"
    assert '<option value="50" selected>50 km</option>' in html
    assert [c["value"] for c in page.visible_controls("format") if "checked" in c] == ["online"]
    assert Page(html).links["Back"].startswith("?step=2&")


# --------------------------------------------------------------------------- the search link


def redirect_query(client, data) -> dict:
    response = client.get("/guide/", {"step": "done", **data})
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert url.path == "/find/"
    query = parse_qs(url.query, keep_blank_values=True)
    assert set(query) <= SEARCH_PARAMETERS
    return query


def test_search_link_has_every_parameter_when_everything_is_answered(client, taxonomies):
    query = redirect_query(
        client,
        {
            "concern": ["grief", "anxiety"],
            "type": ["counselling", "support-groups"],
            "age_group": "older-adults",
            "near": "  Hebden Bridge ",
            "radius": "5",
            "format": ["in_person", "phone"],
            "language": "polish",
            "max_fee": "£42.50",
            "sliding_scale": "true",
            "free": "on",
            "accepting": "1",
            "gender": "non-binary",
        },
    )
    assert query == {
        "concern": ["grief", "anxiety"],
        "type": ["counselling", "support-groups"],
        "age_group": ["older-adults"],
        "near": ["Hebden Bridge"],
        "radius": ["5"],
        "format": ["in_person", "phone"],
        "language": ["polish"],
        "max_fee": ["42.5"],
        "sliding_scale": ["1"],
        "free": ["1"],
        "accepting": ["1"],
        "gender": ["non-binary"],
    }


def test_search_link_leaves_out_empty_answers(client, taxonomies):
    query = redirect_query(
        client,
        {
            "concern": "grief",
            "type": "",
            "age_group": "",
            "near": "   ",
            "radius": "25",  # a distance without a place means nothing
            "format": [],
            "language": "",
            "max_fee": "",
            "sliding_scale": "false",
            "free": "0",
            "gender": "",
        },
    )
    assert query == {"concern": ["grief"]}


def test_search_link_without_answers_is_the_plain_results_page(client, taxonomies):
    response = client.get("/guide/", {"step": "done"})
    assert response.status_code == 302
    assert response["Location"] == "/find/"


def test_search_link_uses_the_usual_distance_when_none_was_chosen(client, taxonomies):
    assert redirect_query(client, {"near": "York"}) == {"near": ["York"], "radius": ["10"]}


def test_not_sure_means_every_kind_of_support(client, taxonomies):
    query = redirect_query(client, {"type": ["counselling", "not-sure"], "concern": "grief"})
    assert query == {"concern": ["grief"]}


def test_search_link_lists_a_repeated_answer_once(client, taxonomies):
    query = redirect_query(client, {"concern": ["grief", "grief", "anxiety"], "max_fee": "40.00"})
    assert query == {"concern": ["grief", "anxiety"], "max_fee": ["40"]}


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "data, step, field, message",
    [
        ({"step": "2", "concern": ["grief", "no-such-thing"]}, 1, "concern", "not on our list"),
        ({"step": "3", "type": "hypnosis"}, 2, "type", "not on our list"),
        ({"step": "3", "age_group": "toddlers"}, 2, "age_group", "choose an age group"),
        ({"step": "4", "radius": "7"}, 3, "radius", "5, 10, 25 or 50 km"),
        ({"step": "4", "format": "carrier-pigeon"}, 3, "format", "in person, online or by phone"),
        ({"step": "4", "near": "x" * 101}, 3, "near", "100 characters or fewer"),
        ({"step": "done", "max_fee": "abc"}, 4, "max_fee", "as a number of pounds"),
        ({"step": "done", "max_fee": "-5"}, 4, "max_fee", "cannot be less than £0"),
        ({"step": "done", "max_fee": "NaN"}, 4, "max_fee", "as a number of pounds"),
        ({"step": "done", "max_fee": "99999"}, 4, "max_fee", "£10,000 or less"),
        ({"step": "done", "language": "klingon"}, 4, "language", "choose a language"),
        ({"step": "done", "gender": "unknown"}, 4, "gender", "choose from the list"),
    ],
)
def test_a_bad_answer_shows_its_step_with_an_error_and_keeps_the_rest(
    client, taxonomies, html_form, data, step, field, message
):
    kept = {"concern": "grief", "near": "Leeds", "language": "spanish", "type": "counselling"}
    kept = {key: value for key, value in kept.items() if key not in data}
    html = guide(client, {**kept, **data}, status=400)
    page = Page(html)
    assert f"Step {step} of 4" in html
    assert "<title>Error: " in html
    assert "Please check your answers" in html
    assert message.lower() in html.lower()
    # The summary links to the question, and the question points at its message.
    target = page.links[next(text for text in page.links if message.lower() in text.lower())]
    assert target.lstrip("#") in page.ids
    assert f"id_{field}_error" in page.ids
    assert any(f"id_{field}_error" in ids.split() for ids in page.described_by)
    assert_accessible(page)
    # Nothing typed is lost: the other answers go on with the form, and typed text is
    # shown again to correct.
    submitted = html_form.parse(html, "guide")
    for name, value in kept.items():
        assert value in submitted.get(name, []), name
    if field in {"near", "max_fee"}:
        assert submitted[field] == [data[field]]


def test_an_unknown_step_shows_the_first_step_with_the_answers_kept(client, taxonomies):
    html = guide(client, {"step": "999", "concern": "grief", "near": "Leeds"}, status=400)
    page = Page(html)
    assert "We could not find that step of the guide" in html
    assert "Step 1 of 4" in html
    assert [c["value"] for c in page.visible_controls("concern") if "checked" in c] == ["grief"]
    assert page.hidden("near") == ["Leeds"]
    assert_accessible(page)


def test_a_bad_answer_at_the_end_does_not_redirect(client, taxonomies):
    response = client.get("/guide/", {"step": "done", "concern": "grief", "max_fee": "lots"})
    assert response.status_code == 400
    assert "Location" not in response


# --------------------------------------------------------------------------- queries


@pytest.mark.parametrize("step", ["1", "2", "3", "4", "done", "999"])
def test_each_step_makes_a_fixed_number_of_queries(
    client, taxonomies, django_assert_num_queries, step
):
    data = {
        "step": step,
        "concern": ["grief", "anxiety", "trauma"],
        "type": ["counselling", "psychotherapy"],
        "age_group": "adults",
        "near": "Leeds",
        "format": ["online", "phone"],
        "language": "spanish",
        "gender": "woman",
    }
    with django_assert_num_queries(QUERIES_PER_STEP):
        client.get("/guide/", data)


def test_the_steps_are_the_four_questions():
    assert [step.title for step in STEPS] == [
        "What would you like support with?",
        "What kind of support?",
        "Where and how?",
        "What else matters?",
    ]
    assert {name for step in STEPS for name in step.fields} == SEARCH_PARAMETERS


# --------------------------------------------------------------------------- fixtures


def test_taxonomies_fixture_explains_every_support_type_and_concern(taxonomies):
    support_types = list(SupportType.objects.order_by("position"))
    assert [t.slug for t in support_types] == [
        "psychotherapy",
        "counselling",
        "support-groups",
        "art-therapy",
        "play-therapy",
    ]
    assert [t.position for t in support_types] == [1, 2, 3, 4, 5]
    for support_type in support_types:
        assert support_type.noun and support_type.noun == support_type.noun.lower()
        assert support_type.description.strip()
        assert support_type.when_to_consider.strip()
        paragraphs = support_type.description.split("\n\n")
        assert len(paragraphs) == 2 and all(p.strip() for p in paragraphs)
    assert Concern.objects.count() == 20
    for concern in Concern.objects.all():
        assert concern.description.strip(), concern
        assert concern.when_to_consider.strip(), concern
        assert "\n\n" not in concern.description  # one paragraph


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def test_synonyms_fixture_loads_and_points_at_real_words(taxonomies):
    path = settings.BASE_DIR / "fixtures" / "synonyms.json"
    rows = json.loads(path.read_text())
    call_command("loaddata", path, verbosity=0)
    assert SearchSynonym.objects.count() == len(rows) >= 25

    vocabulary = set()
    for model in (SupportType, Approach, Concern, Language, Community, AgeGroup, Gender):
        for name, description in model.objects.values_list("name", "description"):
            vocabulary |= _words(name) | _words(description)
    for synonym in SearchSynonym.objects.all():
        synonym.full_clean()  # lower case, and not a synonym of itself
        assert synonym.phrase == synonym.phrase.lower()
        missing = _words(synonym.means) - {"or"} - vocabulary
        assert not missing, f"{synonym}: {missing} appear in no taxonomy"
