"""Staff editing of listings and taxonomies."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Exists, OuterRef, Subquery
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from reversion.admin import VersionAdmin

from services import listings, photos
from services.admin_decisions import Decision, DecisionAdminMixin
from services.admin_paging import LargeTablePaginator
from services.indexing import search_index_update
from services.listing_csv.admin import ProviderCsvAdminMixin
from services.models import (
    REVIEW_AFTER_DAYS,
    AgeGroup,
    Approach,
    Community,
    Concern,
    Enquiry,
    EverydayPhrase,
    Gender,
    Language,
    ListingForReview,
    Location,
    OutgoingEmail,
    ProposedChange,
    Provider,
    Qualification,
    Recommendation,
    Report,
    SearchSynonym,
    Service,
    SupportType,
    listings_changed,
)
from services.my_listing.admin import ListingManagersAdminMixin
from services.outbox import email_retry_now
from services.recommendations import (
    recommendation_approve,
    recommendation_delete,
    recommendation_reject,
    recommendations_recount,
)
from services.reports import report_dismiss, report_resolve, reports_recount
from services.search import everyday
from services.search.filters import clear_taxonomy_cache
from services.search.text import forget_synonyms
from services.upkeep import availability

admin.site.site_header = "Therapy directory: staff"
admin.site.site_title = "Therapy directory staff"
admin.site.index_title = "Listings and vocabularies"
# Adds the listings' verification ages and the moderation queues above the app list.
admin.site.index_template = "admin/directory_index.html"


@admin.register(Approach, Concern, Community, Gender)
class TaxonomyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        clear_taxonomy_cache()
        # The HSDS API shows terms inside listings: its ETags must move.
        listings_changed([])
        if change and "name" in form.changed_data:
            # Listings carry the term's name in their search text and cards.
            affected = _providers_using(obj)
            search_index_update(affected)
            self.message_user(
                request, f"Search text updated for {len(affected):,} listings.", messages.INFO
            )

    def delete_model(self, request, obj):
        affected = _providers_using(obj)
        super().delete_model(request, obj)
        listings_changed(affected)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        listings_changed()  # any listing may have used them


def _providers_using(term) -> list[int]:
    lookups = {
        SupportType: "services__support_type",
        Approach: "services__approaches",
        Concern: "services__concerns",
        Language: "languages",
        Community: "communities",
        Gender: "gender",
        AgeGroup: "services__age_groups",
    }
    lookup = lookups.get(type(term))
    if lookup is None:
        return []
    return list(Provider.objects.filter(**{lookup: term}).values_list("pk", flat=True).distinct())


class ForgetsSearchWords:
    """An admin of what search words mean: each process keeps the synonyms and everyday
    phrases for a few minutes, and this one forgets them as soon as staff change one."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _forget_words()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _forget_words()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        _forget_words()


def _forget_words():
    everyday.forget()
    forget_synonyms()


@admin.register(SearchSynonym)
class SearchSynonymAdmin(ForgetsSearchWords, admin.ModelAdmin):
    list_display = ["phrase", "means"]
    search_fields = ["phrase", "means"]


class EverydayPhraseForm(forms.ModelForm):
    class Meta:
        model = EverydayPhrase
        fields = ["phrase", "concerns", "support_types"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("concerns") and not cleaned.get("support_types"):
            raise ValidationError("Choose the concerns or kinds of support this phrase points to.")
        return cleaned


@admin.register(EverydayPhrase)
class EverydayPhraseAdmin(ForgetsSearchWords, admin.ModelAdmin):
    list_display = ["phrase", "concern_names", "support_type_names"]
    list_filter = ["concerns", "support_types"]
    search_fields = ["phrase"]
    filter_horizontal = ["concerns", "support_types"]
    form = EverydayPhraseForm

    @admin.display(description="Concerns")
    def concern_names(self, obj):
        return ", ".join(c.name for c in obj.concerns.all())

    @admin.display(description="Kinds of support")
    def support_type_names(self, obj):
        return ", ".join(t.name for t in obj.support_types.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("concerns", "support_types")


@admin.register(SupportType)
class SupportTypeAdmin(TaxonomyAdmin):
    list_display = ["name", "slug", "is_group"]


@admin.register(Language)
class LanguageAdmin(TaxonomyAdmin):
    list_display = ["name", "code", "slug"]


@admin.register(AgeGroup)
class AgeGroupAdmin(TaxonomyAdmin):
    list_display = ["name", "min_age", "max_age"]


class SupportTypeFilter(admin.SimpleListFilter):
    title = "support type"
    parameter_name = "support_type"

    def lookups(self, request, model_admin):
        return SupportType.objects.values_list("slug", "name")

    def queryset(self, request, queryset):
        if self.value():
            # EXISTS, not a join: no duplicate rows and no DISTINCT over the whole list.
            offers = Service.objects.filter(
                provider=OuterRef("pk"), support_type__slug=self.value()
            )
            return queryset.filter(Exists(offers))
        return queryset


class VerificationAgeFilter(admin.SimpleListFilter):
    title = "last verified"
    parameter_name = "verified"

    def lookups(self, request, model_admin):
        return [
            ("6m", "In the last 6 months"),
            ("12m", "6 to 12 months ago"),
            ("stale", "Over 12 months ago (needs review)"),
            ("never", "Never"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        six_months_ago = today - datetime.timedelta(days=183)
        a_year_ago = today - datetime.timedelta(days=365)
        match self.value():
            case "6m":
                return queryset.filter(last_verified__gte=six_months_ago)
            case "12m":
                return queryset.filter(
                    last_verified__gte=a_year_ago, last_verified__lt=six_months_ago
                )
            case "stale":
                return queryset.filter(last_verified__lt=a_year_ago)
            case "never":
                return queryset.filter(last_verified__isnull=True)
        return queryset


class AvailabilityFilter(admin.SimpleListFilter):
    title = "availability"
    parameter_name = "availability"

    def lookups(self, request, model_admin):
        return [(key, label) for key, label, _condition in availability.STATES]

    def queryset(self, request, queryset):
        for key, _label, condition in availability.STATES:
            if self.value() == key:
                return queryset.filter(condition)
        return queryset


class OpenReportsFilter(admin.SimpleListFilter):
    title = "problem reports"
    parameter_name = "reports"

    def lookups(self, request, model_admin):
        return [("open", "Has open reports")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(open_reports__gt=0)
        return queryset


EDIT_CONFLICT = (
    "Someone else saved this listing after you opened it, so your changes were not saved. "
    "They are still in the form below. Open the listing in a new tab to see the newer version, "
    "then save again here to keep your changes, or reload this page to drop them."
)


class ProviderAdminForm(forms.ModelForm):
    """The listing form, with an optimistic lock: the version it was opened at travels with it."""

    # Not named after the model field: the admin refuses non-editable fields in forms.
    opened_at_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # The photo (services/photos.py): checked and resized when the form is cleaned, stored
    # by ProviderAdmin.save_model().
    photo = photos.PhotoField(label="New photo")
    remove_photo = forms.BooleanField(label="Remove the photo", required=False)
    # Off in django-reversion's "revert to this version" pages, whose form is an old version.
    check_edit_version = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["opened_at_version"].initial = self.instance.edit_version
        self.saved_edit_version = self.instance.edit_version

    def clean(self):
        cleaned_data = super().clean()
        photos.photo_choices_check(self, has_photo=bool(self.instance.photo_card))
        if not self.instance.pk:
            return cleaned_data
        # Locked until the admin's transaction ends: a second save made at the same moment
        # waits here, then sees the first one's number.
        current = (
            Provider.objects.select_for_update()
            .filter(pk=self.instance.pk)
            .values_list("edit_version", flat=True)
            .first()
        )
        self.saved_edit_version = current or 0
        if self.check_edit_version and cleaned_data.get("opened_at_version") != current:
            # Carry the newer number, so saving again (having looked) is taken as meant.
            self.data = self.data.copy()
            self.data[self.add_prefix("opened_at_version")] = str(current)
            raise ValidationError(EDIT_CONFLICT, code="edit_conflict")
        return cleaned_data


class ServiceInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        # An untouched extra form has empty cleaned_data.
        kept = [
            form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        listings.services_left_check(
            provider=self.instance,
            left=len(kept),
            remedy="Add one, or unpublish the listing first.",
        )


class QualificationInlineForm(forms.ModelForm):
    """A qualification on the listing form: setting or changing the date it was checked
    records who checked it (the staff member saving the form)."""

    checking_user = None  # set for each request by QualificationInline.get_formset

    def clean(self):
        cleaned_data = super().clean()
        if "verified_on" in self.changed_data:
            # Before the model's clean() (in _post_clean), which then asks how it was checked.
            self.instance.verified_by = (
                self.checking_user if cleaned_data.get("verified_on") else None
            )
        return cleaned_data


class QualificationInline(admin.StackedInline):
    # Stacked, two fields a line: a table of all these columns was wider than a laptop.
    model = Qualification
    form = QualificationInlineForm
    extra = 0
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = ["checked_by_whom"]
    fieldsets = [
        (None, {"fields": [("kind", "title"), ("issuer", "number"), ("region", "year")]}),
        (
            "Our check",
            {
                "fields": [
                    ("verified_on", "verified_how"),
                    ("register_url", "expires_on"),
                    "verification_note",
                    "checked_by_whom",
                ],
                "description": "Saving a date here records you as the one who checked it. "
                "Leave the expiry date empty only if the registration does not expire.",
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("verified_by")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.checking_user = request.user  # a class made for this request
        return formset

    @admin.display(description="who checked it")
    def checked_by_whom(self, qualification):
        user = qualification.verified_by
        if user is None:
            return "-"
        return user.get_full_name() or user.email or user.get_username()


class LocationInline(admin.StackedInline):
    model = Location
    extra = 0
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    ("address_line1", "address_line2"),
                    ("town", "region"),
                    ("postcode", "country"),
                    "address_shown",
                ]
            },
        ),
        ("Map position", {"fields": [("latitude", "longitude")]}),
        (
            "Access and hours",
            {
                "fields": [
                    ("wheelchair_access", "wheelchair_access_confirmed_by"),
                    "accessibility_notes",
                    "opening_hours",
                    ("opens_evenings", "opens_weekends"),
                ]
            },
        ),
    ]


class ServiceInline(admin.StackedInline):
    model = Service
    formset = ServiceInlineFormSet
    extra = 0
    autocomplete_fields = ["support_type", "approaches", "concerns", "age_groups", "languages"]
    fieldsets = [
        (
            None,
            {"fields": [("support_type", "name"), "description", "term", "approaches", "concerns"]},
        ),
        (
            "How and for whom",
            {
                "fields": [
                    ("offers_in_person", "offers_online", "offers_phone"),
                    ("for_individuals", "for_couples", "for_families", "for_groups"),
                    "age_groups",
                    "languages",
                    "locations",
                ]
            },
        ),
        (
            "Fees",
            {
                "fields": [
                    ("fee_min", "fee_max", "currency"),
                    ("sliding_scale", "is_free"),
                    ("accepts_insurance", "insurers"),
                ]
            },
        ),
        (
            "Group schedule",
            {
                "fields": [
                    ("group_weekday", "group_start_time", "group_end_time"),
                    ("group_frequency", "group_starts_on"),
                    "group_facilitator",
                ],
                "description": "For support groups: when the group meets.",
            },
        ),
    ]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "locations":
            kwargs["queryset"] = Location.objects.none()  # narrowed to the listing's in get_formset
            kwargs["widget"] = forms.CheckboxSelectMultiple
            kwargs["help_text"] = (
                "Where it is offered in person. A location added just now can be chosen after saving."
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Only this listing's own saved places can be chosen. Use the listing the view
        # loaded, not the URL: django-reversion's history pages have no object_id kwarg.
        if "locations" in formset.form.base_fields:
            formset.form.base_fields["locations"].queryset = (
                Location.objects.filter(provider=obj)
                if obj is not None and obj.pk
                else Location.objects.none()
            )
        return formset


@admin.register(Provider)
class ProviderAdmin(ProviderCsvAdminMixin, ListingManagersAdminMixin, VersionAdmin):
    form = ProviderAdminForm
    list_display = [
        "name",
        "kind",
        "status",
        "accepting_new_clients",
        "last_verified",
        "open_reports_flag",
        "public_page",
    ]
    list_filter = [
        "status",
        SupportTypeFilter,
        VerificationAgeFilter,
        OpenReportsFilter,
        AvailabilityFilter,
        "kind",
    ]
    search_fields = ["name", "=slug", "email"]
    list_per_page = 50
    paginator = LargeTablePaginator
    # The changelist must not count the whole table on every view.
    show_full_result_count = False
    # Facet counts would count the whole table once per filter option.
    show_facets = admin.ShowFacets.NEVER
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["gender", "languages", "communities"]
    # A website typed without a scheme is taken as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    readonly_fields = [
        "status",
        "status_changed_at",
        "status_changed_by",
        "last_verified",
        "last_verified_by",
        "created_at",
        "updated_at",
        "public_page",
        "open_reports_flag",
        "recommendations_approved",
        "photo_preview",
    ]
    inlines = [QualificationInline, LocationInline, ServiceInline]
    actions = ["publish", "unpublish", "archive", "mark_verified"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("name", "slug"),
                    "kind",
                    "introduction",
                    "statement",
                    "opened_at_version",
                ]
            },
        ),
        (
            "Photo",
            {
                "fields": ["photo_preview", "photo", "photo_alt", "remove_photo"],
                "description": "Shown on the result card and the profile, cropped square. "
                "The site keeps a resized copy, without the file's metadata (such as where it was taken).",
            },
        ),
        (
            "Getting to know them",
            {
                "fields": [
                    ("pronouns", "gender"),
                    "practising_since",
                    "languages",
                    "communities",
                    "offers_free_consultation",
                ]
            },
        ),
        (
            "Availability",
            {
                "fields": [
                    ("accepting_new_clients", "accepting_confirmed_on"),
                    ("wait_weeks", "paused_for_replies_at"),
                ]
            },
        ),
        ("Contact", {"fields": [("phone", "email"), "website"]}),
        (
            "Status and verification",
            {
                "fields": [
                    ("status", "public_page"),
                    ("status_changed_at", "status_changed_by"),
                    ("last_verified", "last_verified_by"),
                    ("open_reports_flag", "recommendations_approved"),
                    ("created_at", "updated_at"),
                ],
                "description": "Change these with the buttons below or the actions on the list page.",
            },
        ),
    ]

    @admin.display(description="open reports", ordering="open_reports")
    def open_reports_flag(self, provider):
        count = provider.open_reports
        if not count:
            return "None"
        url = reverse("admin:services_report_changelist")
        return format_html(
            '<a class="open-reports" href="{}?provider__id__exact={}&status__exact=open">'
            "⚠ {} open</a>",
            url,
            provider.pk,
            count,
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.check_edit_version = not getattr(request, "_reverting_listing", False)
        return form

    def revision_view(self, request, object_id, version_id, extra_context=None):
        request._reverting_listing = True
        return super().revision_view(request, object_id, version_id, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        request._reverting_listing = True
        return super().recover_view(request, version_id, extra_context)

    def save_model(self, request, obj, form, change):
        # The number the lock read, not the form's (an old version's in a revert): one more.
        obj.edit_version = form.saved_edit_version + 1 if change else 0
        if form.cleaned_data.get("photo"):
            photos.photo_save(provider=obj, upload=form.cleaned_data["photo"])
        elif form.cleaned_data.get("remove_photo"):
            photos.photo_remove(provider=obj)
        elif getattr(request, "_reverting_listing", False):
            # An old version names the files of its photo, deleted when it was replaced.
            photos.photo_files_check(provider=obj)
        super().save_model(request, obj, form, change)

    @admin.display(description="photo")
    def photo_preview(self, provider):
        if not provider.photo_card:
            return "No photo"
        return format_html(
            '<img src="{}" width="{}" height="{}" alt="{}">',
            provider.photo_card.url,
            photos.CARD_WIDTH,
            photos.CARD_HEIGHT,
            provider.photo_alt,
        )

    @admin.display(description="public page")
    def public_page(self, provider):
        if not provider.pk:
            return "-"
        label = "View" if provider.status == Provider.Status.PUBLISHED else "Preview (not public)"
        return format_html('<a href="{}">{}</a>', provider.get_absolute_url(), label)

    def has_publish_permission(self, request):
        return request.user.has_perm("services.publish_provider")

    def has_verify_permission(self, request):
        return request.user.has_perm("services.verify_provider")

    def _apply(self, request, queryset, operation, done: str):
        changed, refused = 0, []
        for provider in queryset:
            try:
                operation(provider=provider, by=request.user)
            except ValidationError as error:
                refused.extend(error.messages)
                continue
            self.log_change(request, provider, done.capitalize())
            changed += 1
        if changed:
            self.message_user(
                request, f"{changed} listing{'s' if changed != 1 else ''} {done}.", messages.SUCCESS
            )
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description="Publish selected listings", permissions=["publish"])
    def publish(self, request, queryset):
        self._apply(request, queryset, listings.provider_publish, "published")

    @admin.action(
        description="Unpublish selected listings (back to draft)", permissions=["publish"]
    )
    def unpublish(self, request, queryset):
        self._apply(request, queryset, listings.provider_unpublish, "unpublished")

    @admin.action(description="Archive selected listings", permissions=["publish"])
    def archive(self, request, queryset):
        self._apply(request, queryset, listings.provider_archive, "archived")

    @admin.action(description="Mark selected listings verified today", permissions=["verify"])
    def mark_verified(self, request, queryset):
        self._apply(request, queryset, listings.provider_mark_verified, "marked verified")

    def delete_model(self, request, obj):
        pk = obj.pk
        super().delete_model(request, obj)
        listings_changed([pk])

    def delete_queryset(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)
        listings_changed(ids)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Inlines are saved now, so the search text and card can be rebuilt.
        search_index_update([form.instance.pk])
        # The form saved the counts it read (or an old version's, in a revert): count again.
        recommendations_recount(provider_id=form.instance.pk)
        reports_recount(provider_id=form.instance.pk)

    # The change form's "Save and publish" / "Save and unpublish" buttons
    # (templates/admin/services/provider/submit_line.html).

    def render_change_form(self, request, context, *args, **kwargs):
        context["can_publish"] = self.has_publish_permission(request)
        return super().render_change_form(request, context, *args, **kwargs)

    def _after_save(self, request, provider):
        """Publish or unpublish after the edits are saved; None when neither was asked for."""
        if not self.has_publish_permission(request):
            return None
        if "_publish" in request.POST:
            try:
                listings.provider_publish(provider=provider, by=request.user)
            except ValidationError as error:
                # The edits are saved as they were; only the publishing is refused.
                self.message_user(
                    request, " ".join(error.messages) + " Your changes were saved.", messages.ERROR
                )
            else:
                self.log_change(request, provider, "Published")
                self.message_user(request, f"“{provider}” is published.", messages.SUCCESS)
        elif "_unpublish" in request.POST:
            listings.provider_unpublish(provider=provider, by=request.user)
            self.log_change(request, provider, "Unpublished")
            self.message_user(request, f"“{provider}” is back to draft.", messages.SUCCESS)
        else:
            return None
        return HttpResponseRedirect(reverse("admin:services_provider_change", args=[provider.pk]))

    def response_add(self, request, obj, post_url_continue=None):
        return self._after_save(request, obj) or super().response_add(
            request, obj, post_url_continue
        )

    def response_change(self, request, obj):
        return self._after_save(request, obj) or super().response_change(request, obj)


# --------------------------------------------------------------------------- moderation


class ReadOnlyAdmin(admin.ModelAdmin):
    """What the public sent: staff read it and act on it with actions, never rewrite it."""

    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_change_permission(self, request, obj=None):
        # Viewing is enough to open an item; the actions below check "change".
        return super().has_change_permission(request, obj) if obj is None else False

    def has_moderate_permission(self, request):
        return request.user.has_perm(f"services.change_{self.model._meta.model_name}")


def _moderated(modeladmin, request, queryset, operation, done: str):
    count = 0
    for item in queryset:
        operation(item, request.user)
        modeladmin.log_change(request, item, done.capitalize())
        count += 1
    noun = modeladmin.model._meta.verbose_name
    plural = modeladmin.model._meta.verbose_name_plural
    modeladmin.message_user(
        request, f"{count} {noun if count == 1 else plural} {done}.", messages.SUCCESS
    )


@admin.register(Recommendation)
class RecommendationAdmin(DecisionAdminMixin, ReadOnlyAdmin):
    list_display = [
        "provider",
        "author_name",
        "relationship",
        "status",
        "created_at",
        "moderated_by",
        "moderated_at",
    ]
    list_filter = ["status", "relationship"]
    list_select_related = ["provider", "moderated_by"]
    search_fields = ["provider__name", "author_name", "author_email"]
    actions = ["approve", "reject"]
    fields = [
        "provider",
        "status",
        ("author_name", "author_role"),
        ("relationship", "author_email"),
        "text",
        "consents_to_publication",
        "created_at",
        ("moderated_by", "moderated_at"),
    ]
    # The buttons on its own page.
    decisions = (
        Decision(
            "_approve",
            "Approve: show on the profile",
            "approved",
            lambda r, by, _note: recommendation_approve(recommendation=r, by=by),
        ),
        Decision(
            "_reject",
            "Reject: do not show (or take down)",
            "rejected",
            lambda r, by, _note: recommendation_reject(recommendation=r, by=by),
        ),
    )

    def decisions_for(self, recommendation):
        approve, reject = self.decisions
        return {
            Recommendation.Status.PENDING: [approve, reject],
            Recommendation.Status.APPROVED: [reject],
            Recommendation.Status.REJECTED: [approve],
        }.get(recommendation.status, [])

    def has_decide_permission(self, request):
        return self.has_moderate_permission(request)

    @admin.action(description="Approve: show on the profile", permissions=["moderate"])
    def approve(self, request, queryset):
        _moderated(
            self,
            request,
            queryset,
            lambda r, by: recommendation_approve(recommendation=r, by=by),
            "approved",
        )

    @admin.action(description="Reject: do not show (or take down)", permissions=["moderate"])
    def reject(self, request, queryset):
        _moderated(
            self,
            request,
            queryset,
            lambda r, by: recommendation_reject(recommendation=r, by=by),
            "rejected",
        )

    def delete_model(self, request, obj):
        recommendation_delete(recommendation=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for recommendation in queryset:
            recommendation_delete(recommendation=recommendation, by=request.user)


REPORT_NOTE_MISSING = "Write what you found and what you did: a report is closed with a note."


@admin.register(Report)
class ReportAdmin(DecisionAdminMixin, ReadOnlyAdmin):
    list_display = ["provider", "problem", "status", "created_at", "closed_by", "closed_at"]
    list_filter = ["status", "problem"]
    list_select_related = ["provider", "closed_by"]
    search_fields = ["provider__name", "details"]
    actions = ["resolve", "dismiss"]
    fields = [
        "provider",
        "problem",
        "details",
        "reporter_email",
        "status",
        "created_at",
        ("closed_by", "closed_at"),
        "resolution",
    ]
    decision_note_label = "Resolution note"
    decision_note_help = "What you found and what you did. Required to close the report."
    decisions = (
        Decision(
            "_resolve",
            "Resolve: the listing was corrected",
            "resolved",
            lambda r, by, note: report_resolve(report=r, by=by, resolution=note),
            note_missing=REPORT_NOTE_MISSING,
        ),
        Decision(
            "_dismiss",
            "Dismiss: nothing to change",
            "dismissed",
            lambda r, by, note: report_dismiss(report=r, by=by, resolution=note),
            note_missing=REPORT_NOTE_MISSING,
        ),
    )

    def decisions_for(self, report):
        return list(self.decisions) if report.status == Report.Status.OPEN else []

    def has_decide_permission(self, request):
        return self.has_moderate_permission(request)

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("status", "-created_at")

    @admin.action(description="Resolved: the listing was corrected", permissions=["moderate"])
    def resolve(self, request, queryset):
        return self._close_selected(request, queryset, report_resolve, "resolved")

    @admin.action(description="Dismiss: nothing to change", permissions=["moderate"])
    def dismiss(self, request, queryset):
        return self._close_selected(request, queryset, report_dismiss, "dismissed")

    def _close_selected(self, request, queryset, close, done: str):
        """Close the reports with one resolution note, asked for on a page of its own first."""
        resolution = request.POST.get("resolution", "").strip()
        if resolution:
            _moderated(
                self,
                request,
                queryset,
                lambda r, by: close(report=r, by=by, resolution=resolution),
                done,
            )
            return None
        asked = "resolution" in request.POST
        reports = list(queryset.select_related("provider")[:100])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Close {len(reports)} report{'s' if len(reports) != 1 else ''}: {done}",
            "reports": reports,
            "action": request.POST.get("action", ""),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "done": done,
            "error": "Write a resolution note to close the reports." if asked else "",
        }
        return TemplateResponse(
            request,
            "admin/services/report/close_selected.html",
            context,
            status=400 if asked else 200,
        )


def _send_again(modeladmin, request, emails):
    emails = [email for email in emails if email is not None]
    for email in emails:
        email_retry_now(email=email)
    modeladmin.message_user(
        request,
        f"{len(emails)} queued to be sent again; the outbox shows how each goes.",
        messages.SUCCESS,
    )


@admin.register(Enquiry)
class EnquiryAdmin(ReadOnlyAdmin):
    list_display = [
        "provider",
        "name",
        "created_at",
        "delivery",
        "attempts",
        "sent_at",
        "answer",
        "answered_at",
    ]
    # What the provider told us (services/upkeep/replies.py): spam marks can be looked over.
    list_filter = [("email_to_provider__state", admin.ChoicesFieldListFilter), "answer"]
    list_select_related = ["provider", "email_to_provider"]
    search_fields = ["provider__name", "name", "email"]
    actions = ["send_again"]

    @admin.display(description="delivery", ordering="email_to_provider__state")
    def delivery(self, enquiry):
        email = enquiry.email_to_provider
        return email.get_state_display() if email else "Not emailed (the listing had no email)"

    @admin.display(description="tries", ordering="email_to_provider__attempts")
    def attempts(self, enquiry):
        return enquiry.email_to_provider.attempts if enquiry.email_to_provider else 0

    @admin.display(description="sent at", ordering="email_to_provider__sent_at")
    def sent_at(self, enquiry):
        return enquiry.email_to_provider.sent_at if enquiry.email_to_provider else None

    @admin.action(description="Try sending again now", permissions=["moderate"])
    def send_again(self, request, queryset):
        _send_again(self, request, [enquiry.email_to_provider for enquiry in queryset])


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(ReadOnlyAdmin):
    """Every email the site sends, and how sending it went."""

    list_display = ["subject", "to", "purpose", "created_at", "state", "attempts", "sent_at"]
    list_filter = ["state", "purpose"]
    search_fields = ["to", "subject"]
    actions = ["send_again"]

    @admin.action(description="Try sending again now", permissions=["moderate"])
    def send_again(self, request, queryset):
        _send_again(self, request, list(queryset))


class ReviewReasonFilter(admin.SimpleListFilter):
    title = "why it needs review"
    parameter_name = "why"

    def lookups(self, request, model_admin):
        return [
            ("changes", "Changes waiting for our check"),
            ("licence", "Licence expired or expiring"),
            ("reported", "Open reports"),
            ("paused", "Paused: enquiries unanswered"),
            ("unchecked", "Not verified for 12 months, or never"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        stale = today - datetime.timedelta(days=REVIEW_AFTER_DAYS)
        match self.value():
            case "changes":
                return queryset.filter(
                    Exists(ProposedChange.objects.waiting().filter(provider=OuterRef("pk")))
                )
            case "licence":
                return queryset.published().filter(
                    Exists(Qualification.objects.lapsing(today).filter(provider=OuterRef("pk")))
                )
            case "reported":
                return queryset.published().filter(open_reports__gt=0)
            case "paused":
                return queryset.published().filter(paused_for_replies_at__isnull=False)
            case "unchecked":
                return queryset.published().verified_before(stale)
        return queryset


class ReviewChangeList(ChangeList):
    """The review list, with what each listing on the page is waiting for: one query for the
    page's rows, rather than subqueries the capped count would work out for every match."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        today = timezone.localdate()
        lapsing = Qualification.objects.lapsing(today).filter(provider=OuterRef("pk"))
        waiting = ProposedChange.objects.waiting().filter(provider=OuterRef("pk"))
        reasons = Provider.objects.filter(pk__in=[row.pk for row in self.result_list]).values_list(
            "pk",
            Subquery(lapsing.order_by("expires_on").values("expires_on")[:1]),
            Subquery(waiting.order_by().values("provider").annotate(n=Count("pk")).values("n")),
        )
        found = (
            {pk: (expires, changes) for pk, expires, changes in reasons} if self.result_list else {}
        )
        for row in self.result_list:
            row.licence_expires, row.changes_waiting = found.get(row.pk, (None, 0))


@admin.register(ListingForReview)
class ListingForReviewAdmin(admin.ModelAdmin):
    """Listings staff should check (Provider.objects.needs_review()): published ones not
    verified for a year, reported as wrong, or with a licence expired or expiring; and any
    with a provider's change waiting for staff."""

    list_display = ["edit_link", "status", "last_verified", "open_reports", "why"]
    list_display_links = None
    list_filter = [ReviewReasonFilter, OpenReportsFilter, VerificationAgeFilter]
    search_fields = ["name", "=slug"]
    list_per_page = 50
    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request):
        return ListingForReview.objects.needs_review()

    def get_changelist(self, request, **kwargs):
        return ReviewChangeList

    def get_ordering(self, request):
        # Listings with reports first, then the longest unchecked.
        return ["-open_reports", models.F("last_verified").asc(nulls_first=True), "name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="listing", ordering="name")
    def edit_link(self, listing):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:services_provider_change", args=[listing.pk]),
            listing.name,
        )

    @admin.display(description="why")
    def why(self, listing):
        reasons = []
        if listing.changes_waiting:
            count = listing.changes_waiting
            reasons.append(
                format_html(
                    '<a href="{}?provider__id__exact={}">{} change{} waiting for our check</a>',
                    reverse("admin:services_proposedchange_changelist"),
                    listing.pk,
                    count,
                    "s" if count != 1 else "",
                )
            )
        if listing.status != Provider.Status.PUBLISHED:
            return format_html_join("; ", "{}", ((reason,) for reason in reasons))
        if listing.licence_expires is not None:
            expires = date_format(listing.licence_expires, "j M Y")
            reasons.append(
                f"licence expired {expires}"
                if listing.licence_expires < timezone.localdate()
                else f"licence expires {expires}"
            )
        if listing.open_reports:
            reasons.append(
                f"{listing.open_reports} open report{'s' if listing.open_reports != 1 else ''}"
            )
        if listing.paused_for_replies_at is not None:
            paused = date_format(timezone.localtime(listing.paused_for_replies_at), "j M Y")
            reasons.append(f"paused {paused}: enquiries unanswered")
        stale = timezone.localdate() - datetime.timedelta(days=REVIEW_AFTER_DAYS)
        if listing.last_verified is None:
            reasons.append("never verified")
        elif listing.last_verified < stale:
            reasons.append("not verified for over 12 months")
        return format_html_join("; ", "{}", ((reason,) for reason in reasons))
