"""PostgreSQL query plans: selective searches read the providers table through indexes.

A few thousand generated listings (the project's own seed_demo) are written once for
the module, the tables are vacuumed and analysed, and the plan PostgreSQL really
chooses for each main query shape is checked: no node may be a sequential scan of
services_provider, and the table must be reached through an index. No planner
setting is changed; what is asserted is what the planner picks for this data.

Every shape here is selective with the seeded data (a guard asserts it): a search
that matches a third of the directory is rightly answered by reading the table, and
is not what this module is about.
"""

import random
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.functions import Lower
from django.http import QueryDict

from services.models import Provider, SearchWord
from services.profiles import profile_load
from services.search.filters import ProviderFilter
from services.search.matching import card_rows
from services.search.text import _nearest_word, search_providers

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="Query plans are PostgreSQL's (EXPLAIN)."
    ),
    pytest.mark.django_db,
]

SEEDED_PROVIDERS = 4000
# The vocabulary of a real directory (every name, place and term its listings use)
# runs to tens of thousands of words; the demo data's few hundred fit in three pages,
# which PostgreSQL rightly reads whole. The spelling test adds this many made-up
# name-like words so that the table is the size the trigram index is there for.
EXTRA_VOCABULARY = 10_000

PROVIDER_TABLE = "services_provider"
ADMIN_NAME_INDEX = "services_provider_name_upper_trgm"
ADMIN_EMAIL_INDEX = "services_provider_email_upper_trgm"
VOCABULARY_INDEX = "services_searchword_word_trgm"
INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}


def _tables_with_rows() -> dict[str, bool]:
    with connection.cursor() as cursor:
        tables = [
            name
            for name in connection.introspection.table_names(cursor)
            if name.startswith("services_")
        ]
        found = {}
        for table in tables:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")
            found[table] = cursor.fetchone()[0]
    return found


def _made_up_words(count: int) -> list[str]:
    """Name-like words ("brailmorth"), the same every run."""
    r = random.Random(7)
    onsets = [*"bcdfghjklmnprstvwyz", "br", "ch", "dr", "gr", "sh", "st", "th", "tr"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "y"]
    codas = ["", "n", "r", "l", "s", "th", "ck", "m", "nd", "rt", "ll", "ng"]
    words: set[str] = set()
    while len(words) < count:
        syllables = r.choice([2, 2, 3])
        words.add(
            "".join(r.choice(onsets) + r.choice(vowels) + r.choice(codas) for _ in range(syllables))
        )
    return sorted(words)


@pytest.fixture(scope="module", autouse=True)
def seeded(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Demo listings and a directory-sized vocabulary, committed for the module, then removed.

    They are committed (not rolled back with each test) so that the tables can be
    vacuumed, as autovacuum does on a live database. A GIN index that has only seen
    inserts since it was built (in a migration, on an empty table) holds them in its
    pending list and has stale statistics until a VACUUM; after only ANALYZE, the
    planner passes over the email and vocabulary trigram indexes for that reason alone.
    """
    with django_db_blocker.unblock():
        before = _tables_with_rows()
        assert not before[PROVIDER_TABLE], "The plans need a test database without listings."
        try:
            call_command("seed_demo", providers=SEEDED_PROVIDERS, seed=1, stdout=StringIO())
            SearchWord.objects.bulk_create(
                [SearchWord(word=word) for word in _made_up_words(EXTRA_VOCABULARY)],
                ignore_conflicts=True,
                batch_size=2000,
            )
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            yield
        finally:
            # Leave the tables as the other test modules expect them: as empty as before.
            after = _tables_with_rows()
            added = [table for table, has_rows in after.items() if has_rows and not before[table]]
            if added:
                with connection.cursor() as cursor:
                    # CASCADE: tables that point at providers but stayed empty (enquiries)
                    # must be named too, and with no listings before they were empty anyway.
                    cursor.execute(
                        "TRUNCATE "
                        + ", ".join(connection.ops.quote_name(t) for t in added)
                        + " CASCADE"
                    )


# --------------------------------------------------------------------------- plans


def plan_of(sql: str, params=None) -> dict:
    """The root node of the plan PostgreSQL chooses for sql (EXPLAIN, FORMAT JSON)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        document = cursor.fetchone()[0]
    return document[0]["Plan"]


def queryset_plan(queryset) -> dict:
    sql, params = queryset.query.sql_with_params()
    return plan_of(sql, params)


def nodes(plan: dict) -> Iterator[dict]:
    """Every node of the plan tree (subplans and init plans are children, too)."""
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def describe(plan: dict, depth: int = 0) -> str:
    """The plan as an indented outline, for assertion messages."""
    line = "  " * depth + plan["Node Type"]
    if "Relation Name" in plan:
        line += f" on {plan['Relation Name']}"
    if "Index Name" in plan:
        line += f" using {plan['Index Name']}"
    return "\n".join([line] + [describe(child, depth + 1) for child in plan.get("Plans", [])])


def seq_scans(plan: dict, table: str) -> list[dict]:
    return [
        node
        for node in nodes(plan)
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == table
    ]


def assert_no_seq_scan(plan: dict, table: str = PROVIDER_TABLE) -> None:
    assert not seq_scans(plan, table), f"Sequential scan of {table}:\n{describe(plan)}"


def assert_indexed(plan: dict, table: str = PROVIDER_TABLE) -> None:
    """The table is read, and only through indexes."""
    assert_no_seq_scan(plan, table)
    reads = [node for node in nodes(plan) if node.get("Relation Name") == table]
    assert reads, f"{table} is not read at all:\n{describe(plan)}"
    assert {node["Node Type"] for node in reads} <= INDEX_NODES, describe(plan)


def index_nodes(plan: dict, index: str, node_type: str | None = None) -> list[dict]:
    return [
        node
        for node in nodes(plan)
        if node.get("Index Name") == index and node_type in (None, node["Node Type"])
    ]


class Statements:
    """The SQL (with its parameters) a block of code runs, as a list of (sql, params)."""

    def __init__(self):
        self.run: list[tuple[str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        self.run.append((sql, params))
        return execute(sql, params, many, context)

    def __enter__(self):
        self._wrapper = connection.execute_wrapper(self)
        self._wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        return self._wrapper.__exit__(*exc)

    def selects(self) -> list[tuple[str, object]]:
        return [(sql, params) for sql, params in self.run if sql.lstrip("( ").startswith("SELECT")]


def published_count() -> int:
    return Provider.objects.published().count()


# --------------------------------------------------------------------------- results pages


def test_a_results_page_reads_its_rows_by_primary_key():
    """matching.card_rows, for ResultList.__getitem__: one page's 20 rows by id."""
    ordered = Provider.objects.published().order_by(Lower("name"), "pk")
    ids = list(ordered.values_list("pk", flat=True)[1000:1020])
    assert len(ids) == 20
    with Statements() as statements:
        rows = card_rows(ids)
    assert sorted(rows) == sorted(ids)
    [(sql, params)] = statements.selects()
    plan = plan_of(sql, params)
    assert_indexed(plan)
    assert index_nodes(plan, "services_provider_pkey"), describe(plan)


def test_a_phrase_search_uses_the_full_text_index():
    """The database's part of a word search (a phrase, which the word index cannot
    answer): matching.word_matches selects pk and rank of the matches.

    "low mood" is in about a third of the seeded listings, for which reading the table
    is the right plan; "sign language" is in a handful.
    """
    phrase = '"sign language"'
    queryset = (
        search_providers(Provider.objects.published(), phrase)
        .queryset.order_by()
        .values_list("pk", "rank")
    )
    matches = len(list(queryset))
    assert 0 < matches < published_count() / 50
    plan = queryset_plan(queryset)
    assert_indexed(plan)
    assert index_nodes(plan, "services_provider_search_vector_gin", "Bitmap Index Scan"), describe(
        plan
    )


# --------------------------------------------------------------------------- profile


def test_a_profile_page_reads_one_provider_through_indexes():
    """profile_load (services/profiles.py): every statement it runs for one slug."""
    slug = Provider.objects.published().order_by("pk").values_list("slug", flat=True)[2000]
    with Statements() as statements:
        profile = profile_load(slug)
    assert profile.provider.slug == slug
    selects = statements.selects()
    assert len(selects) == 6
    touching_providers = [(sql, p) for sql, p in selects if f'"{PROVIDER_TABLE}"' in sql]
    assert touching_providers
    for sql, params in touching_providers:
        assert_indexed(plan_of(sql, params))
    # The rest read a provider's rows of the large tables by provider (or service) id.
    for sql, params in selects:
        plan = plan_of(sql, params)
        for table in (
            PROVIDER_TABLE,
            "services_service",
            "services_location",
            "services_qualification",
            "services_provider_languages",
            "services_provider_communities",
            "services_service_approaches",
            "services_service_concerns",
            "services_service_age_groups",
            "services_service_locations",
        ):
            assert_no_seq_scan(plan, table)


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize(
    "query",
    [
        "type=play-therapy&language=somali",
        "concern=grief&type=counselling&language=spanish&max_fee=60",
        "near=Truro&radius=2",
        "near=Truro&radius=5&type=counselling",
    ],
)
def test_selective_criteria_read_providers_through_indexes(query):
    """The SQL statement of the criteria (services/search/filters.py, Criteria.providers)."""
    search = ProviderFilter(QueryDict(query), queryset=Provider.objects.published())
    queryset = search.qs
    assert search.form.is_valid(), search.form.errors
    found = queryset.count()
    assert 0 < found < published_count() / 50, f"{query} is not selective ({found} results)"
    assert_indexed(queryset_plan(queryset))


# --------------------------------------------------------------------------- staff


def _admin_fragment() -> str:
    """A seeded practitioner's surname: in a percent or two of the listings."""
    name = (
        Provider.objects.filter(kind=Provider.Kind.INDIVIDUAL)
        .order_by("pk")
        .values_list("name", flat=True)
        .first()
    )
    return name.split()[-1]


@pytest.mark.parametrize(
    ("field", "index"), [("name", ADMIN_NAME_INDEX), ("email", ADMIN_EMAIL_INDEX)]
)
def test_the_admin_search_uses_a_trigram_index(field, index):
    """ProviderAdmin.search_fields: `name` and `email` are searched with icontains,
    UPPER(...) LIKE UPPER('%...%'), which migration 0008's indexes answer."""
    fragment = _admin_fragment()
    assert len(fragment) >= 3
    if field == "email":
        fragment = fragment.lower()
    queryset = Provider.objects.filter(**{f"{field}__icontains": fragment})
    found = queryset.count()
    assert 0 < found < Provider.objects.count() / 20, f"{fragment!r}: {found} matches"
    plan = queryset_plan(queryset)
    assert_indexed(plan)
    assert index_nodes(plan, index, "Bitmap Index Scan"), describe(plan)


# --------------------------------------------------------------------------- spelling


@pytest.mark.parametrize(("typed", "meant"), [("anxeity", "anxiety"), ("brimingham", "birmingham")])
def test_spelling_suggestions_use_the_vocabulary_trigram_index(typed, meant):
    """services.search._nearest_word: `word % typed` over the vocabulary."""
    assert SearchWord.objects.count() > EXTRA_VOCABULARY
    with Statements() as statements:
        assert _nearest_word(typed) == meant
    [(sql, params)] = statements.selects()
    plan = plan_of(sql, params)
    assert_no_seq_scan(plan, "services_searchword")
    assert index_nodes(plan, VOCABULARY_INDEX), describe(plan)


# --------------------------------------------------------------------------- places and pages


def test_a_postcode_district_is_found_through_the_postcode_index():
    """resolve_place("LS6 3AB") looks for listings at that postcode among those of its
    district (services/geo.py); a district alone is answered from the postcode data."""
    from services.geo import resolve_place

    postcode = (
        Provider.objects.published()
        .filter(locations__postcode__contains=" ")
        .values_list("locations__postcode", flat=True)
        .first()
    )
    with Statements() as statements:
        assert resolve_place(postcode).place is not None
    plans = [plan_of(sql, params) for sql, params in statements.selects()]
    location_plans = [
        plan
        for plan in plans
        if seq_scans(plan, "services_location")
        or any(node.get("Relation Name") == "services_location" for node in nodes(plan))
    ]
    assert location_plans, "the district's places were not read"
    for plan in location_plans:
        assert index_nodes(plan, "services_location_postcode_upper"), describe(plan)
        assert_no_seq_scan(plan, "services_location")


def test_the_explanation_pages_take_recently_checked_listings_in_index_order():
    """views._featured: a few listings offering a kind of support, most recently checked first."""
    from django.db.models import Q

    from services.views import _featured

    with Statements() as statements:
        assert _featured(Q(services__support_type__slug="counselling"))
    (sql, params), *_rest = statements.selects()
    plan = plan_of(sql, params)
    assert index_nodes(plan, "provider_recently_checked_idx"), describe(plan)
    assert_no_seq_scan(plan)
