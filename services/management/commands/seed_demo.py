"""Generate realistic, varied demo listings, deterministically, with bulk inserts."""

import datetime
import json
import random
import time
from decimal import Decimal
from uuid import uuid4

from django.contrib.postgres.search import SearchVectorField
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from services import demo_data as data
from services.indexing import (
    SEARCH_VECTOR_SQL,
    ListingFacts,
    ServiceFacts,
    result_card,
    search_document,
    vocabulary_add,
)
from services.models import (
    AgeGroup,
    Approach,
    Community,
    Concern,
    EverydayPhrase,
    Gender,
    Language,
    Location,
    Provider,
    Qualification,
    Recommendation,
    Report,
    SearchSynonym,
    SearchWord,
    Service,
    ServiceAtLocation,
    SupportType,
    listings_changed,
)
from services.photos import photo_prepare, photo_save
from services.planner_statistics import planner_statistics_update

INSIDE_POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
RECOMMENDATION_COLUMNS = [
    "provider_id",
    "author_name",
    "relationship",
    "author_role",
    "author_email",
    "text",
    "consents_to_publication",
    "status",
    "created_at",
    "moderated_at",
]
REPORT_COLUMNS = ["provider_id", "problem", "details", "reporter_email", "status", "created_at"]
QUALIFICATION_COLUMNS = [
    "provider_id",
    "kind",
    "title",
    "issuer",
    "number",
    "region",
    "year",
    "verified_on",
]

# Every table insert_batch() writes, analysed at the end (services/planner_statistics.py).
SEEDED = [
    Provider,
    Provider.languages.through,
    Provider.communities.through,
    Qualification,
    Location,
    Service,
    Service.approaches.through,
    Service.concerns.through,
    Service.age_groups.through,
    Service.locations.through,
    ServiceAtLocation,
    Recommendation,
    Report,
    SearchWord,
]


def insert_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert plain rows fast: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", rows)


def insert_objects(model, objects: list) -> None:
    """Give new model objects their keys and write them: bulk_create, or COPY on PostgreSQL.

    Providers' search vectors are computed by the same statement that writes
    them, so no row is written twice.
    """
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects)
        return
    now = timezone.now()
    # The database computes generated columns itself.
    fields = [
        f
        for f in model._meta.concrete_fields
        if not isinstance(f, SearchVectorField) and not f.generated
    ]
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(objects)],
        )
        for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk
        rows = [tuple(_column_value(field, obj, now) for field in fields) for obj in objects]
        columns = [field.column for field in fields]
        if model is not Provider:
            insert_rows(model, columns, rows)
            return
        cursor.execute(
            "CREATE TEMP TABLE seed_provider (LIKE services_provider INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        column_list = ", ".join(connection.ops.quote_name(column) for column in columns)
        with cursor.copy(f"COPY seed_provider ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO services_provider ({column_list}, search_vector) "
            f"SELECT {column_list}, {SEARCH_VECTOR_SQL} FROM seed_provider"
        )
        cursor.execute("DROP TABLE seed_provider")


def _column_value(field, obj, now):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        setattr(obj, field.attname, now)
    value = getattr(obj, field.attname)
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    if isinstance(field, models.FileField):
        return value.name or ""  # the stored file's name, as Django saves it
    return value


class Command(BaseCommand):
    help = "Add N generated providers (with qualifications, locations and services) for demos and benchmarks."

    def add_arguments(self, parser):
        parser.add_argument(
            "--providers", type=int, default=300, help="How many providers to add (default 300)."
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="The same seed gives the same listings."
        )
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if there are providers already (for `make run`).",
        )
        parser.add_argument(
            "--photos",
            type=int,
            default=0,
            help="Give up to this many published practitioners a made-up photo (default none),"
            " saved to the default storage (MEDIA_ROOT).",
        )

    def handle(self, *args, providers, seed, batch_size, if_empty, photos, **options):
        if providers < 0 or batch_size < 1:
            raise CommandError("--providers must be 0 or more and --batch-size at least 1.")
        if if_empty and Provider.objects.exists():
            self.stdout.write("Demo data: providers already exist, nothing added.")
            return
        if not SupportType.objects.exists():
            call_command("loaddata", "taxonomies", verbosity=0)
        if not SearchSynonym.objects.exists():
            call_command("loaddata", "synonyms", verbosity=0)
        if not EverydayPhrase.objects.exists():
            call_command("loaddata", "everyday_words", verbosity=0)
        generator = ListingGenerator(
            seed=seed,
            taken_slugs=set(Provider.objects.values_list("slug", flat=True)),
            photos=photos,
        )
        started = time.monotonic()
        made = 0
        while made < providers:
            size = min(batch_size, providers - made)
            with transaction.atomic():
                generator.insert_batch(size)
                listings_changed()
            made += size
            self.stdout.write(
                f"  {made:,}/{providers:,} providers ({time.monotonic() - started:.1f} s)"
            )
        if made:
            planner_statistics_update(models=SEEDED)
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {providers:,} demo providers in {time.monotonic() - started:.1f} s."
            )
        )


def in_sentence(name: str) -> str:
    """A term's name for the middle of a sentence: "Trauma and PTSD" -> "trauma and PTSD"."""
    return " ".join(
        word if sum(c.isupper() for c in word) > 1 else word.lower() for word in name.split()
    )


class ListingGenerator:
    """Makes provider plans from a seeded random stream and writes them in bulk."""

    def __init__(self, *, seed: int, taken_slugs: set[str], photos: int = 0):
        self.random = random.Random(seed)
        # Recommendations and reports draw from their own stream, so adding them changed
        # none of the listings a seed gives.
        self.feedback_random = random.Random(f"feedback-{seed}")
        # Photos likewise: asking for them changes nothing else.
        self.photo_random = random.Random(f"photos-{seed}")
        # The wait for a first session likewise: added later, it changed nothing else.
        self.wait_random = random.Random(f"waits-{seed}")
        self.photos_left = photos
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.taken_slugs = taken_slugs
        self.support_types = {t.slug: t for t in SupportType.objects.all()}
        self.approaches = dict(Approach.objects.values_list("slug", "pk"))
        self.concerns = dict(Concern.objects.values_list("slug", "pk"))
        self.languages = dict(Language.objects.values_list("slug", "pk"))
        self.communities = list(Community.objects.values_list("pk", flat=True))
        self.terms = {
            model: {
                pk: (slug, name)
                for pk, slug, name in model.objects.values_list("pk", "slug", "name")
            }
            for model in (Approach, Concern, Language, Community)
        }
        self.age_groups = dict(AgeGroup.objects.values_list("slug", "pk"))
        self.genders = dict(Gender.objects.values_list("name", "pk"))
        self.town_weights = [town[-1] for town in data.TOWNS]
        self.extra_languages = list(data.LANGUAGE_WEIGHTS)
        self.language_weights = list(data.LANGUAGE_WEIGHTS.values())
        self.through = {
            "languages": Provider.languages.through,
            "communities": Provider.communities.through,
            "approaches": Service.approaches.through,
            "concerns": Service.concerns.through,
            "age_groups": Service.age_groups.through,
            "locations": Service.locations.through,
        }

    # Writing

    def insert_batch(self, size: int) -> None:
        plans = [self.plan_provider() for _ in range(size)]
        # Rows that need their new keys go through bulk_create; the rest (most
        # of the volume) are plain tuples written by insert_rows().
        providers = [plan["provider"] for plan in plans]
        insert_objects(Provider, providers)
        # The services link to these same location objects, which now carry their keys.
        insert_objects(
            Location,
            [
                loc
                for p, plan in zip(providers, plans, strict=True)
                for loc in self.owned(plan["locations"], p)
            ],
        )
        services = [
            s
            for p, plan in zip(providers, plans, strict=True)
            for s in self.owned(plan["services"], p)
        ]
        insert_objects(Service, services)
        rows = {
            name: []
            for name in (
                "recommendations",
                "reports",
                "qualifications",
                "languages",
                "communities",
                "approaches",
                "concerns",
                "age_groups",
                "locations",
            )
        }
        for provider, plan in zip(providers, plans, strict=True):
            rows["qualifications"] += [(provider.pk, *values) for values in plan["qualifications"]]
            rows["languages"] += [(provider.pk, pk) for pk in plan["languages"]]
            rows["communities"] += [(provider.pk, pk) for pk in plan["communities"]]
            rows["recommendations"] += [
                (provider.pk, *values) for values in plan["recommendations"]
            ]
            rows["reports"] += [(provider.pk, *values) for values in plan["reports"]]
        for service in services:
            for name in ("approaches", "concerns", "age_groups"):
                rows[name] += [(service.pk, pk) for pk in service._demo_links[name]]
            rows["locations"] += [
                (service.pk, location.pk) for location in service._demo_links["locations"]
            ]
        vocabulary_add(provider.search_document for provider in providers)
        insert_rows(Qualification, QUALIFICATION_COLUMNS, rows.pop("qualifications"))
        insert_rows(Recommendation, RECOMMENDATION_COLUMNS, rows.pop("recommendations"))
        insert_rows(Report, REPORT_COLUMNS, rows.pop("reports"))
        owners = {"languages": Provider, "communities": Provider}
        for name, values in rows.items():
            through = getattr(owners.get(name, Service), name).through
            insert_rows(through, [field.column for field in through._meta.fields[1:]], values)
        # Each service-at-location link has its own lasting UUID (written as Django
        # stores one: a native uuid on PostgreSQL, 32 hex digits elsewhere).
        native = connection.vendor == "postgresql"
        insert_rows(
            ServiceAtLocation,
            ["uuid", "service_id", "location_id"],
            [
                (uuid4() if native else uuid4().hex, service_id, location_id)
                for service_id, location_id in rows["locations"]
            ],
        )

    @staticmethod
    def owned(objects, provider):
        for obj in objects:
            obj.provider_id = provider.pk
            yield obj

    # Planning one provider

    def plan_provider(self) -> dict:
        r = self.random
        is_organisation = r.random() < 0.2
        town = r.choices(data.TOWNS, weights=self.town_weights)[0]
        if is_organisation:
            name = r.choice(data.ORGANISATION_PATTERNS).format(town=town[0])
            gender_name, pronouns = None, ""
            type_slugs = self.organisation_support_types()
        else:
            gender_name = r.choices(
                ["Woman", "Man", "Non-binary", "Genderqueer", "Genderfluid", "Agender", None],
                weights=[58, 27, 5, 1, 1, 1, 7],
            )[0]
            given = r.choice(data.FIRST_NAMES.get(gender_name) or data.FIRST_NAMES["neutral"])
            name = f"{given} {r.choice(data.SURNAMES)}"
            pronouns = data.PRONOUNS.get(gender_name, "") if r.random() < 0.8 else ""
            type_slugs = self.individual_support_types()

        status = r.choices(["published", "draft", "archived"], weights=[90, 7, 3])[0]
        practising_since = self.today.year - int(r.triangular(1, 38, 9))
        provider = Provider(
            kind="organisation" if is_organisation else "individual",
            name=name,
            slug=self.unique_slug(name, town[0]),
            pronouns=pronouns,
            gender_id=self.genders.get(gender_name),
            practising_since=practising_since,
            offers_free_consultation=r.random() < 0.55,
            accepting_new_clients=r.random() < 0.75,
            accepting_confirmed_on=self.days_ago(r.randint(0, 240)),
            phone=f"07700 900{r.randint(0, 999):03d}",  # Ofcom's range reserved for drama
            email=f"hello@{slugify(name)}.example.org",
            website=f"https://{slugify(name)}.example.org" if r.random() < 0.7 else "",
            status=status,
            last_verified=self.last_verified(status),
        )
        if provider.accepting_new_clients and self.wait_random.random() < 0.6:
            provider.wait_weeks = self.wait_random.choice([0, 1, 2, 2, 3, 4, 4, 6, 8, 12])
        if provider.last_verified:
            provider.status_changed_at = timezone.now() - datetime.timedelta(days=r.randint(0, 900))

        locations = self.plan_locations(town, is_organisation, type_slugs)
        services = [self.plan_service(slug, locations, is_organisation) for slug in type_slugs]
        main_type = type_slugs[0]
        concern_names = [c for s in services for c in s._demo_concern_slugs][:3]
        provider.statement = self.statement(is_organisation, concern_names, services[0], main_type)
        plan = {
            "provider": provider,
            "qualifications": self.plan_qualifications(
                type_slugs, practising_since, is_organisation
            ),
            "locations": locations,
            "services": services,
            "languages": self.plan_languages(),
            "communities": r.sample(
                self.communities, k=r.choices([0, 1, 2], weights=[55, 35, 10])[0]
            ),
            "recommendations": self.plan_recommendations(provider, town[0]),
            "reports": self.plan_reports(provider),
        }
        provider.recommendations_approved = sum(
            1 for values in plan["recommendations"] if values[6] == "approved"
        )
        provider.open_reports = len(plan["reports"])  # all open
        if self.photos_left and status == "published" and not is_organisation:
            self.plan_photo(provider)
        # The same document and card services.indexing builds from saved rows.
        facts = self.facts(plan)
        provider.search_document = search_document(facts)
        provider.card = result_card(facts)
        return plan

    def plan_photo(self, provider: Provider) -> None:
        """A made-up portrait for about one practitioner in three, until the number asked
        for is reached (about 20 ms each: the picture drawn, checked and resized)."""
        if self.photo_random.random() >= 0.35:
            return
        self.photos_left -= 1
        picture = data.demo_photo(self.photo_random.randrange(1 << 30))
        photo_save(provider=provider, upload=photo_prepare(picture))
        provider.photo_alt = "A drawing of a person's head and shoulders (a demo picture)"

    def facts(self, plan: dict) -> ListingFacts:
        terms = self.terms
        return ListingFacts(
            provider=plan["provider"],
            services=[
                ServiceFacts(
                    service=s,
                    approaches=[terms[Approach][pk] for pk in s._demo_links["approaches"]],
                    concerns=[terms[Concern][pk] for pk in s._demo_links["concerns"]],
                )
                for s in plan["services"]
            ],
            qualifications=[
                (kind, title, issuer, verified)
                for kind, title, issuer, _n, _r, _y, verified in plan["qualifications"]
            ],
            languages=[terms[Language][pk][1] for pk in plan["languages"]],
            communities=[terms[Community][pk][1] for pk in plan["communities"]],
            places=[(loc.town, loc.postcode_district, loc.region) for loc in plan["locations"]],
        )

    def individual_support_types(self) -> list[str]:
        r = self.random
        main = r.choices(
            ["counselling", "psychotherapy", "art-therapy", "play-therapy"],
            weights=[40, 36, 13, 11],
        )[0]
        types = [main]
        if main in ("counselling", "psychotherapy") and r.random() < 0.08:
            types.append("support-groups")  # some practitioners also run a group
        return types

    def organisation_support_types(self) -> list[str]:
        r = self.random
        types = ["support-groups"] if r.random() < 0.6 else []
        types += r.sample(
            ["counselling", "psychotherapy", "art-therapy", "play-therapy"],
            k=r.randint(0 if types else 1, 2),
        )
        return types

    def plan_locations(self, town, is_organisation: bool, type_slugs: list[str]) -> list[Location]:
        r = self.random
        online_only = not is_organisation and "play-therapy" not in type_slugs and r.random() < 0.15
        if online_only:
            return []
        count = 2 if is_organisation and r.random() < 0.3 else 1
        locations = []
        for _ in range(count):
            name, region, lat, lng, area, highest, _weight = town
            access = r.choices(["full", "partial", "none", "unknown"], weights=[45, 20, 10, 25])[0]
            district = f"{area}{r.randint(1, highest)}"
            evenings = r.random() < 0.45
            locations.append(
                Location(
                    name=r.choice(data.BUILDINGS),
                    address_line1=f"{r.randint(1, 240)} {r.choice(data.STREETS)}",
                    town=name,
                    region=region,
                    postcode=f"{district} {r.randint(1, 9)}{r.choice(INSIDE_POSTCODE_LETTERS)}{r.choice(INSIDE_POSTCODE_LETTERS)}",
                    address_shown="full" if is_organisation or r.random() < 0.35 else "town",
                    # Spread listings over about 4 km around the town centre.
                    latitude=round(lat + r.uniform(-0.035, 0.035), 6),
                    longitude=round(lng + r.uniform(-0.055, 0.055), 6),
                    wheelchair_access=access,
                    wheelchair_access_confirmed_by=""
                    if access == "unknown"
                    else r.choice(["provider", "provider", "staff", "visitor"]),
                    opening_hours="Mon–Fri 9:00–20:00" if evenings else "Mon–Fri 9:00–17:00",
                    opens_evenings=evenings,
                    opens_weekends=r.random() < 0.2,
                )
            )
        return locations

    def plan_service(
        self, type_slug: str, locations: list[Location], is_organisation: bool
    ) -> Service:
        r = self.random
        profile = data.SUPPORT_TYPE_PROFILES[type_slug]
        support_type = self.support_types[type_slug]
        concern_slugs = r.sample(
            profile["concerns"], k=min(len(profile["concerns"]), r.randint(2, 6))
        )
        approach_slugs = r.sample(profile["approaches"], k=r.randint(1, 3))
        in_person = bool(locations) and r.random() < 0.9
        online = not in_person or r.random() < 0.6
        service = Service(
            support_type=support_type,
            term=r.choice(["short", "long", "either"]),
            offers_in_person=in_person,
            offers_online=online,
            offers_phone=type_slug in ("counselling", "psychotherapy") and r.random() < 0.3,
            currency="GBP",
        )
        if type_slug == "play-therapy":
            service.for_individuals, service.for_families = True, r.random() < 0.6
            ages = ["children", "young-people"] if r.random() < 0.5 else ["children"]
        elif type_slug == "support-groups":
            service.for_individuals, service.for_groups = False, True
            ages = ["adults", "older-adults"] if r.random() < 0.6 else ["young-people"]
        else:
            service.for_couples = r.random() < 0.25
            service.for_families = r.random() < 0.12
            ages = r.choice([["adults"], ["adults", "older-adults"], ["young-people", "adults"]])
        self.plan_fees(service, profile["fees"], is_organisation, type_slug)
        if support_type.is_group:
            service.name = data.GROUP_NAMES.get(concern_slugs[0], "Peer support group")
            self.plan_schedule(service)
        service._demo_concern_slugs = concern_slugs
        service._demo_links = {
            "approaches": [self.approaches[s] for s in approach_slugs],
            "concerns": [self.concerns[s] for s in concern_slugs],
            "age_groups": [self.age_groups[s] for s in ages],
            "locations": locations if in_person else [],
        }
        return service

    def plan_fees(self, service: Service, fee_range, is_organisation: bool, type_slug: str) -> None:
        r = self.random
        low, high = fee_range
        if type_slug == "support-groups" and r.random() < 0.65:
            service.is_free = True
            return
        if is_organisation and r.random() < 0.15:
            service.is_free = True
            return
        fee_min = r.randrange(low, high + 1, 5) if high > 10 else r.randint(max(low, 2), high)
        spread = r.choice([0, 0, 10, 20, 30]) if high > 10 else 0
        service.fee_min = Decimal(fee_min)
        service.fee_max = Decimal(fee_min + spread)
        service.sliding_scale = is_organisation or r.random() < 0.3
        if type_slug in ("psychotherapy", "counselling") and r.random() < 0.25:
            service.accepts_insurance = True
            service.insurers = r.choice(
                ["Bupa, AXA Health", "Aviva, Vitality", "Bupa", "WPA, Cigna"]
            )

    def plan_schedule(self, service: Service) -> None:
        r = self.random
        service.group_weekday = r.randint(0, 6)
        start = r.choice([10, 13, 18, 18, 19, 19])
        service.group_start_time = datetime.time(start, r.choice([0, 30]))
        service.group_end_time = datetime.time(
            start + r.choice([1, 2]), service.group_start_time.minute
        )
        service.group_frequency = r.choices(
            ["weekly", "fortnightly", "monthly"], weights=[60, 25, 15]
        )[0]
        # An anchor on the right weekday, somewhere in the last few months.
        anchor = self.days_ago(r.randint(0, 120))
        service.group_starts_on = anchor - datetime.timedelta(
            days=(anchor.weekday() - service.group_weekday) % 7
        )
        service.group_facilitator = (
            f"{r.choice(data.FIRST_NAMES['neutral'])} {r.choice(data.SURNAMES)}"
        )

    def plan_qualifications(
        self, type_slugs, practising_since: int, is_organisation: bool
    ) -> list[tuple]:
        r = self.random
        profile = data.SUPPORT_TYPE_PROFILES[type_slugs[0]]
        chosen = [r.choice(profile["degrees"]) + ("",)] if not is_organisation else []
        chosen.append(r.choice(profile["licences"]))
        if profile["extras"] and r.random() < 0.35:
            chosen.append(r.choice(profile["extras"]))
        qualifications = []
        for kind, title, issuer, prefix in chosen:
            year = (
                min(self.today.year, practising_since + r.randint(-2, 6))
                if kind != "degree"
                else practising_since - r.randint(0, 2)
            )
            verified = r.random() < 0.6 and kind in ("licence", "membership")
            qualifications.append(
                (
                    kind,
                    title,
                    issuer,
                    f"{prefix}{r.randint(10000, 99999)}" if prefix else "",
                    "United Kingdom" if kind == "licence" else "",
                    max(year, 1960),
                    self.days_ago(r.randint(10, 700)) if verified else None,
                )
            )
        return qualifications

    def plan_languages(self) -> list[int]:
        r = self.random
        slugs = ["english"]
        extra = r.choices([0, 1, 2], weights=[72, 23, 5])[0]
        while len(slugs) < extra + 1:
            slug = r.choices(self.extra_languages, weights=self.language_weights)[0]
            if slug not in slugs:
                slugs.append(slug)
        return [self.languages[s] for s in slugs]

    def statement(
        self, is_organisation: bool, concern_slugs, service: Service, type_slug: str
    ) -> str:
        r = self.random
        opening = r.choice(
            data.ORGANISATION_OPENINGS if is_organisation else data.STATEMENT_OPENINGS
        )
        concern_names = [in_sentence(self.concern_name(slug)) for slug in concern_slugs]
        listed = (
            f"{', '.join(concern_names[:-1])} and {concern_names[-1]}"
            if len(concern_names) > 1
            else concern_names[0]
        )
        focus = f"{'Much of our' if is_organisation else 'Much of my'} work is with {listed}."
        type_name = self.support_types[type_slug].name.lower()
        how = (
            f"{'We' if is_organisation else 'I'} offer {type_name} {' and '.join(service.formats)}."
        )
        return " ".join([opening, focus, how, r.choice(data.STATEMENT_CLOSINGS)])

    def plan_recommendations(self, provider: Provider, town: str) -> list[tuple]:
        """A quarter of published listings have a few; most approved, some waiting, a few rejected."""
        r = self.feedback_random
        if provider.status != "published" or r.random() >= 0.25:
            return []
        name = provider.name if provider.kind == "organisation" else provider.name.split()[0]
        planned = []
        for _ in range(r.choices([1, 2, 3, 4], weights=[45, 30, 15, 10])[0]):
            relationship = r.choice(["referrer", "colleague", "former_client"])
            given = r.choice(data.FIRST_NAMES["neutral"])
            author = (
                given if relationship == "former_client" else f"{given} {r.choice(data.SURNAMES)}"
            )
            status = r.choices(["approved", "pending", "rejected"], weights=[75, 18, 7])[0]
            created = self.now - datetime.timedelta(
                days=r.randint(3, 700), minutes=r.randint(0, 1439)
            )
            planned.append(
                (
                    author,
                    relationship,
                    r.choice(data.RECOMMENDER_ROLES[relationship]).format(town=town),
                    f"{slugify(author)}@example.org",
                    r.choice(data.RECOMMENDATION_TEXTS[relationship]).format(name=name, town=town),
                    True,
                    status,
                    created,
                    None if status == "pending" else created + datetime.timedelta(days=2),
                )
            )
        return planned

    def plan_reports(self, provider: Provider) -> list[tuple]:
        """A few published listings have an open report from a visitor."""
        r = self.feedback_random
        if provider.status != "published" or r.random() >= 0.03:
            return []
        problem = r.choice(list(data.REPORT_DETAILS))
        return [
            (
                problem,
                data.REPORT_DETAILS[problem] if problem == "other" or r.random() < 0.6 else "",
                "",
                "open",
                self.now - datetime.timedelta(days=r.randint(0, 30)),
            )
        ]

    # Helpers

    def concern_name(self, slug: str) -> str:
        if not hasattr(self, "_concern_names"):
            self._concern_names = dict(Concern.objects.values_list("slug", "name"))
        return self._concern_names[slug]

    def days_ago(self, days: int) -> datetime.date:
        return self.today - datetime.timedelta(days=days)

    def last_verified(self, status: str) -> datetime.date | None:
        r = self.random
        if status == "draft" or r.random() < 0.08:
            return None
        # Most listings were checked in the last year; about a quarter are stale.
        return self.days_ago(r.randint(0, 365) if r.random() < 0.72 else r.randint(366, 1000))

    def unique_slug(self, name: str, town: str) -> str:
        base = slugify(name)
        slug, n = base, 1
        if slug in self.taken_slugs:
            slug = base = f"{base}-{slugify(town)}"
        while slug in self.taken_slugs:
            n += 1
            slug = f"{base}-{n}"
        self.taken_slugs.add(slug)
        return slug
