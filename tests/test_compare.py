"""The comparison page: two to four listings side by side, one row a criterion."""

import datetime
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest

from services.models import Provider
from tests.conftest import LEEDS, MANCHESTER

pytestmark = pytest.mark.django_db

# The providers, their qualifications, locations, services, and every name those link to:
# services/profiles.py's profiles_load(), whatever the number of listings.
COMPARE_QUERIES = 5
# The first time: the taxonomies' choices (to check `concern`) and the place.
COMPARE_QUERIES_COLD = COMPARE_QUERIES + 2


class _Table(HTMLParser):
    """The comparison table as text: column headings, and {criterion: [cell, ...]}."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.columns, self.rows, self.row_classes = [], {}, {}
        self._cell = None
        self._row = None
        self._row_class = ""
        self._in_thead = False
        self._hidden = 0
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "thead":
            self._in_thead = True
        elif tag == "tr":
            self._row, self._row_class = [], attrs.get("class") or ""
        elif tag in ("th", "td") and self._row is not None:
            self._cell = []
        if self._hidden or "visually-hidden" in (attrs.get("class") or ""):
            self._hidden += 1

    def handle_endtag(self, tag):
        if self._hidden:
            self._hidden -= 1
        if tag == "thead":
            self._in_thead = False
        elif tag in ("th", "td") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).replace("\u00ad", "").split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._in_thead:
                self.columns = self._row[1:]
            else:
                criterion = self._row[0].removesuffix(" Differs")
                self.rows[criterion] = self._row[1:]
                self.row_classes[criterion] = self._row_class
            self._row = None

    def handle_data(self, data):
        if self._cell is not None and not self._hidden:
            self._cell.append(data)


def table(html: str) -> _Table:
    parser = _Table()
    parser.feed(html.split("<table", 1)[1].split("</table>", 1)[0].join(["<table", "</table>"]))
    return parser


def compare_url(*slugs, **search) -> str:
    return "/compare/?" + urlencode([("p", slug) for slug in slugs] + list(search.items()))


@pytest.fixture
def four(make_listing, days_ago, make_provider):
    """Four listings that differ in most ways and agree in a few."""
    grief_leeds = make_listing(
        "Alder Counselling",
        slug="alder",
        places=[{"town": "Leeds", "latitude": LEEDS[0], "longitude": LEEDS[1]}],
        languages=["english", "spanish"],
        practising_since=2011,
        accepting_new_clients=True,
        accepting_confirmed_on=days_ago(3),
        offers_free_consultation=True,
        qualifications=[
            {"title": "Registered member", "issuer": "BACP", "verified_on": days_ago(40)}
        ],
        services=[
            {
                "concerns": ["grief", "anxiety"],
                "approaches": ["person-centred"],
                "fee_min": Decimal("40"),
                "fee_max": Decimal("50"),
                "sliding_scale": True,
            }
        ],
    )
    manchester = make_listing(
        "Birch Therapy",
        slug="birch",
        places=[{"town": "Manchester", "latitude": MANCHESTER[0], "longitude": MANCHESTER[1]}],
        languages=["english"],
        practising_since=2001,
        accepting_new_clients=False,
        services=[
            {
                "type": "psychotherapy",
                "concerns": ["depression"],
                "approaches": ["cbt"],
                "fee_min": Decimal("60"),
                "fee_max": Decimal("60"),
                "accepts_insurance": True,
                "insurers": "Example Health",
            }
        ],
    )
    online = make_listing(
        "Cedar Online",
        slug="cedar",
        languages=["english"],
        services=[{"concerns": ["grief"], "formats": ["online"], "is_free": True}],
    )
    group = make_listing(
        "Damson Group",
        slug="damson",
        places=[{"town": "Leeds", "latitude": LEEDS[0] + 0.01, "longitude": LEEDS[1]}],
        languages=["english"],
        services=[
            {
                "type": "support-groups",
                "concerns": ["grief"],
                "is_free": True,
                "group_weekday": 1,
                "group_frequency": "weekly",
                "group_start_time": datetime.time(18, 30),
                "for_groups": True,
            }
        ],
    )
    return [grief_leeds, manchester, online, group]


def test_two_listings_side_by_side(client, four):
    alder, birch = four[:2]
    response = client.get(compare_url("alder", "birch"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Compare Alder Counselling and Birch Therapy" in html
    assert html.count("<h1>") == 1
    assert '<th scope="col"><span class="visually-hidden">Criterion</span></th>' in html
    assert html.count('<th scope="col">') == 3
    assert '<th scope="row">Fee a session <span class="differs-tag">Differs</span></th>' in html
    assert (
        '<caption id="compare-caption" class="visually-hidden">2 listings on the criteria for choosing support'
        in html
    )
    got = table(html)
    assert got.columns == [
        "Alder Counselling Individual practitioner",
        "Birch Therapy Individual practitioner",
    ]
    assert got.rows["Kind of support"] == ["Counselling", "Psychotherapy"]
    assert got.rows["Approaches"] == [
        "Humanistic and person-centred therapy Short or long term",
        "Cognitive behavioural therapy (CBT) Short or long term",
    ]
    assert got.rows["Works with"] == ["Anxiety Grief and loss", "Depression and low mood"]
    assert got.rows["Qualifications"][0].startswith("Registered member, BACP (2010)")
    assert "Checked with the issuing body" in got.rows["Qualifications"][0]
    assert got.rows["Experience"] == [
        f"{datetime.date.today().year - 2011} years Practising since 2011",
        f"{datetime.date.today().year - 2001} years Practising since 2001",
    ]
    assert got.rows["Languages"] == ["English Spanish", "English"]
    assert got.rows["How"] == ["In person", "In person"]
    assert got.rows["Fee a session"] == ["£40–£50 a session", "£60 a session"]
    assert got.rows["Sliding-scale fees"] == ["Yes", "No"]
    assert got.rows["Health insurance"] == ["Not accepted", "Accepted Example Health"]
    assert got.rows["Free first consultation"] == ["Yes", "No"]
    assert got.rows["Taking new clients"][0].startswith("Taking new clients Confirmed ")
    assert got.rows["Taking new clients"][1] == "Not taking new clients at the moment Not confirmed"
    assert got.rows["Recommendations"] == ["None yet", "None yet"]
    assert "Next group meeting" not in got.rows  # neither runs a group
    assert "Distance from Leeds" not in "".join(got.rows)  # no place was given
    # Each column links to the profile and the contact form.
    assert got.rows["Contact"] == ["Full profile Send a message", "Full profile Send a message"]
    for provider in (alder, birch):
        assert f'<a href="{provider.get_absolute_url()}">{provider.name}</a>' in html
        assert f'<a href="{provider.get_absolute_url()}contact/">Send a message</a>' in html
    # Two is the least: neither can be left out.
    assert "Leave out" not in html


def test_rows_that_differ_are_marked_in_words_and_the_same_ones_say_so(client, four):
    got = table(client.get(compare_url("alder", "birch")).content.decode())
    assert got.row_classes["Languages"] == "differs"
    assert got.row_classes["How"] == "same"
    assert got.row_classes["Recommendations"] == "same"
    assert got.row_classes["Contact"] == ""  # links, not a criterion
    html = client.get(compare_url("alder", "birch")).content.decode()
    assert (
        '<th scope="row">How<span class="visually-hidden"> (the same for all)</span></th>' in html
    )


def test_four_listings_with_the_place_and_the_concern_searched_for(client, four):
    url = compare_url("alder", "birch", "cedar", "damson", near="Leeds", concern="grief")
    html = client.get(url).content.decode()
    got = table(html)
    assert len(got.columns) == 4
    assert [column.split(" Individual")[0] for column in got.columns] == [
        "Alder Counselling",
        "Birch Therapy",
        "Cedar Online",
        "Damson Group",
    ]
    distance = got.rows["Distance from Leeds"]
    km = [float(cell.split(" km ")[0]) for cell in distance if " km " in cell]
    assert [cell.split(" km ")[1] for cell in distance if " km " in cell] == [
        "Leeds",
        "Manchester",
        "Leeds",
    ]
    assert km[0] < 2 and km[2] < 3 and 50 < km[1] < 65
    assert distance[2] == "No place to visit: online or by phone"
    assert "with distances from Leeds</caption>" in html
    # What was searched for comes first in each column, marked.
    assert got.rows["Works with"][0] == "Grief and loss Anxiety"
    assert html.count('<strong class="matched">Grief and loss</strong>') == 3
    assert '<span class="visually-hidden"> (you searched for this)</span>' in html
    assert got.rows["Free of charge"] == ["No", "No", "Yes", "Yes"]
    meeting = got.rows["Next group meeting"]
    assert meeting[:3] == ["Runs no groups"] * 3
    assert meeting[3].startswith("Tuesday ") and meeting[3].endswith(
        "at 18:30 Support groups, every week"
    )
    assert got.rows["How"][2] == "Online (video)"
    assert got.rows["Where"][2] == "Online or by phone only"
    # More than two: each can be left out, keeping the rest and the search.
    assert (
        '<a class="remove" href="?p=alder&amp;p=cedar&amp;p=damson&amp;near=Leeds&amp;concern=grief">'
        'Leave out<span class="visually-hidden"> Birch Therapy</span></a>'
    ) in html
    assert 'href="/shortlist/?near=Leeds&amp;concern=grief">Back to your shortlist</a>' in html


def test_the_query_count_is_the_same_for_two_and_four(client, four, django_assert_num_queries):
    search = {"near": "Leeds", "concern": "grief"}
    with django_assert_num_queries(COMPARE_QUERIES_COLD):
        client.get(compare_url("alder", "birch", **search))
    for slugs in (["alder", "birch"], ["alder", "birch", "cedar", "damson"]):
        with django_assert_num_queries(COMPARE_QUERIES):
            response = client.get(compare_url(*slugs, **search))
        assert len(table(response.content.decode()).columns) == len(slugs)


@pytest.mark.parametrize(
    ("slugs", "message"),
    [
        ([], "This link does not name any."),
        (["alder"], "This link names only one."),
        (["alder", "alder"], "This link names only one."),
        (["alder", ""], "This link names only one."),
    ],
)
def test_fewer_than_two_is_a_400_that_explains(client, four, slugs, message):
    response = client.get(compare_url(*slugs))
    assert response.status_code == 400
    html = response.content.decode()
    assert "To compare, choose 2 to 4 listings." in html and message in html
    assert 'href="/shortlist/">Your shortlist</a>' in html
    assert "<table" not in html


def test_five_is_a_400_offering_the_first_four(client, four, make_listing):
    make_listing("Elm Practice", slug="elm")
    response = client.get(compare_url("alder", "birch", "cedar", "damson", "elm", near="Leeds"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "You can compare up to 4 listings at a time, and this link names 5." in html
    assert (
        '<a href="?p=alder&amp;p=birch&amp;p=cedar&amp;p=damson&amp;near=Leeds">'
        "Compare the first 4</a>"
    ) in html


@pytest.mark.parametrize("status", [Provider.Status.DRAFT, Provider.Status.ARCHIVED])
def test_unpublished_listings_are_left_out_with_a_note(client, four, status):
    Provider.objects.filter(slug="cedar").update(status=status)
    response = client.get(compare_url("alder", "birch", "cedar"))
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "One listing in this link is not in the directory at the moment, so it is left out." in html
    )
    assert "Cedar Online" not in html
    assert len(table(html).columns) == 2


@pytest.mark.parametrize(
    "slugs", [["alder", "no-such-listing"], ["alder", "nul\x00byte"], ["x y", "<script>", "alder"]]
)
def test_with_fewer_than_two_left_it_is_a_404_that_explains(client, four, slugs):
    response = client.get(compare_url(*slugs))
    assert response.status_code == 404
    html = response.content.decode()
    assert "Only one of these listings is in the directory at the moment" in html
    assert '<a href="/providers/alder/">See Alder Counselling</a>' in html
    assert "<script>" not in html


def test_none_left_is_a_404(client, four):
    response = client.get(compare_url("gone-1", "gone-2"))
    assert response.status_code == 404
    assert "None of these listings are in the directory at the moment." in (
        response.content.decode()
    )


def test_a_place_that_is_not_found_is_said_and_the_rest_shown(client, four):
    response = client.get(compare_url("alder", "birch", near="Nowhereville Zzz"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "We could not find a place called “Nowhereville Zzz”." in html
    assert "Distances are not shown." in html
    assert "Distance from" not in html


@pytest.mark.parametrize(
    "junk",
    [
        {"max_fee": "lots", "lat": "abc", "lng": "1"},
        {"concern": "not-a-concern", "sort": "nonsense", "page": "-3"},
        {"near": "\x00", "radius": "1e9"},
        {"lat": "53.8", "lng": "-1.55"},
    ],
)
def test_other_parameters_never_break_it(client, four, junk):
    response = client.get(compare_url("alder", "birch", **junk))
    assert response.status_code == 200
    assert len(table(response.content.decode()).columns) == 2


def test_coordinates_from_use_my_location_give_distances(client, four):
    html = client.get(compare_url("alder", "birch", lat="53.8", lng="-1.55")).content.decode()
    assert table(html).rows["Distance from your location"][0].startswith("0.")


def test_only_get(client, four):
    assert client.post(compare_url("alder", "birch")).status_code == 405


def test_the_page_is_not_for_search_engines_and_sets_no_cookie(client, four):
    response = client.get(compare_url("alder", "birch"))
    assert '<meta name="robots" content="noindex">' in response.content.decode()
    assert not response.cookies
