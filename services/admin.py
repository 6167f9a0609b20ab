"""Staff editing of listings and taxonomies."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from reversion.admin import VersionAdmin

from services import listings
from services.admin_csv import ProviderCsvAdminMixin
from services.admin_paging import LargeTablePaginator
from services.filters import clear_taxonomy_cache
from services.indexing import search_index_update
from services.models import (
    AgeGroup,
    Approach,
    Community,
    Concern,
    Gender,
    Language,
    ListingsVersion,
    Location,
    Provider,
    Qualification,
    SearchSynonym,
    Service,
    SupportType,
)
from services.search import forget_synonyms

admin.site.site_header = "Therapy directory: staff"
admin.site.site_title = "Therapy directory staff"
admin.site.index_title = "Listings and vocabularies"


@admin.register(Approach, Concern, Community, Gender)
class TaxonomyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        clear_taxonomy_cache()
        # The HSDS API shows terms inside listings: its ETags must move.
        ListingsVersion.bump()
        if change and "name" in form.changed_data:
            # Listings carry the term's name in their search text and cards.
            affected = _providers_using(obj)
            search_index_update(affected)
            self.message_user(
                request, f"Search text updated for {len(affected):,} listings.", messages.INFO
            )

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        ListingsVersion.bump()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        ListingsVersion.bump()


def _providers_using(term) -> list[int]:
    lookups = {
        SupportType: "services__support_type",
        Approach: "services__approaches",
        Concern: "services__concerns",
        Language: "languages",
        Community: "communities",
    }
    lookup = lookups.get(type(term))
    if lookup is None:
        return []
    return list(Provider.objects.filter(**{lookup: term}).values_list("pk", flat=True).distinct())


@admin.register(SearchSynonym)
class SearchSynonymAdmin(admin.ModelAdmin):
    list_display = ["phrase", "means"]
    search_fields = ["phrase", "means"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        forget_synonyms()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        forget_synonyms()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        forget_synonyms()


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


class ServiceInlineFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if self.instance.status != Provider.Status.PUBLISHED:
            return
        # An untouched extra form has empty cleaned_data.
        kept = [
            form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise ValidationError(
                "A published listing needs at least one service. Add one, or unpublish the listing first."
            )


class QualificationInline(admin.TabularInline):
    model = Qualification
    extra = 0
    fields = ["kind", "title", "issuer", "number", "region", "year", "verified_on"]


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
    autocomplete_fields = ["support_type", "approaches", "concerns", "age_groups"]
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
class ProviderAdmin(ProviderCsvAdminMixin, VersionAdmin):
    list_display = [
        "name",
        "kind",
        "status",
        "accepting_new_clients",
        "last_verified",
        "public_page",
    ]
    list_filter = [
        "status",
        SupportTypeFilter,
        VerificationAgeFilter,
        "accepting_new_clients",
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
    ]
    inlines = [QualificationInline, LocationInline, ServiceInline]
    actions = ["publish", "unpublish", "archive", "mark_verified"]
    fieldsets = [
        (None, {"fields": [("name", "slug"), "kind", "statement"]}),
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
        ("Availability", {"fields": [("accepting_new_clients", "accepting_confirmed_on")]}),
        ("Contact", {"fields": [("phone", "email"), "website"]}),
        (
            "Status and verification",
            {
                "fields": [
                    ("status", "public_page"),
                    ("status_changed_at", "status_changed_by"),
                    ("last_verified", "last_verified_by"),
                    ("created_at", "updated_at"),
                ],
                "description": "Change these with the buttons below or the actions on the list page.",
            },
        ),
    ]

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
        super().delete_model(request, obj)
        ListingsVersion.bump()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        ListingsVersion.bump()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Inlines are saved now, so the search text and card can be rebuilt.
        search_index_update([form.instance.pk])

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
