"""Staff's side of providers keeping their own listings: who manages a listing (invite,
revoke, on the listing's page), and the queue of changes waiting for staff's check."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from services.admin_decisions import Decision, DecisionAdminMixin
from services.admin_paging import LargeTablePaginator
from services.models import ListingManager, ProposedChange
from services.my_listing.access import manager_invite, manager_revoke
from services.my_listing.moderation import change_approve, change_reject, change_rows

# --------------------------------------------------------------------------- managers


class ManagerInviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="They get an email with a link to sign in and keep this listing up to date.",
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        # Staff addresses cannot sign in at /my-listing/ (services/my_listing/access.py).
        if get_user_model().objects.filter(email__iexact=email, is_staff=True).exists():
            raise ValidationError(
                "This address belongs to a staff account, which edits listings here instead."
            )
        return email


class ListingManagersAdminMixin:
    """For the listing's admin: who manages the listing, with "Revoke" per person and an
    invitation form, in a section at the end of the listing's change page.

    The invitation and each revocation are forms of their own, outside the listing's form
    (HTML has no nested forms): their fields sit in the section and name their form with
    `form=` (templates/admin/services/provider/change_form_managers.html)."""

    change_form_template = "admin/services/provider/change_form_managers.html"

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/managers/invite/",
                view(self.manager_invite_view),
                name=f"{prefix}_manager_invite",
            ),
            path(
                "<path:object_id>/managers/<int:manager_id>/revoke/",
                view(self.manager_revoke_view),
                name=f"{prefix}_manager_revoke",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None and obj.pk:
            context["listing_managers"] = list(
                obj.managers.select_related("user", "invited_by", "revoked_by").order_by(
                    "revoked_at", "added_at"
                )
            )
            context["can_manage_managers"] = self.has_verify_permission(request)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    def _managed_listing(self, request, object_id):
        if not self.has_verify_permission(request):
            raise PermissionDenied
        provider = self.get_object(request, unquote(object_id))
        if provider is None:
            raise Http404("No such listing.")
        return provider

    def _back_to_listing(self, provider):
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[provider.pk],
            current_app=self.admin_site.name,
        )
        return HttpResponseRedirect(url + "#managers")

    def manager_invite_view(self, request, object_id):
        provider = self._managed_listing(request, object_id)
        # Prefixed: on the listing's page the field sits beside the listing's own "email".
        form = ManagerInviteForm(
            request.POST if request.method == "POST" else None, prefix="manager"
        )
        if form.is_valid():
            try:
                manager = manager_invite(
                    provider=provider, email=form.cleaned_data["email"], by=request.user
                )
            except ValidationError as error:
                form.add_error("email", error)
            else:
                self.log_change(request, provider, f"Invited {manager.user.email} to manage it")
                self.message_user(
                    request,
                    f"{manager.user.email} can now manage “{provider}”; an invitation is on "
                    "its way.",
                    messages.SUCCESS,
                )
                return self._back_to_listing(provider)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": provider,
            "title": f"Invite someone to manage “{provider}”",
            "form": form,
        }
        status = 400 if form.is_bound else 200
        return render(
            request, "admin/services/provider/manager_invite.html", context, status=status
        )

    def manager_revoke_view(self, request, object_id, manager_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        provider = self._managed_listing(request, object_id)
        manager = (
            ListingManager.objects.select_related("user")
            .filter(pk=manager_id, provider=provider)
            .first()
        )
        if manager is None:
            raise Http404("No such manager of this listing.")
        if manager.revoked_at is not None:
            self.message_user(
                request, f"{manager.user.email} had no access already.", messages.INFO
            )
            return self._back_to_listing(provider)
        manager_revoke(manager=manager, by=request.user)
        self.log_change(request, provider, f"Revoked {manager.user.email}’s access")
        self.message_user(
            request,
            f"{manager.user.email} can no longer manage “{provider}”.",
            messages.SUCCESS,
        )
        return self._back_to_listing(provider)


# --------------------------------------------------------------------------- the queue


class DecidedFilter(admin.SimpleListFilter):
    """Waiting changes by default: the queue; decided ones on request."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("decided", "Decided or withdrawn"),
            ("all", "All"),
        ]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Waiting for our check",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        match self.value():
            case None:
                return queryset.filter(state=ProposedChange.State.WAITING)
            case "decided":
                return queryset.filter(~Q(state=ProposedChange.State.WAITING))
            case "all":
                return queryset
        return queryset.none()


def _approve(change, by, note):
    try:
        change_approve(change=change, by=by, note=note)
    except ObjectDoesNotExist as gone:
        # Staff deleted the qualification or service it changes since it was proposed.
        raise ValidationError(
            "What this change was for is no longer on the listing: reject it instead."
        ) from gone


def _reject(change, by, note):
    change_reject(change=change, by=by, note=note)


@admin.register(ProposedChange)
class ProposedChangeAdmin(DecisionAdminMixin, admin.ModelAdmin):
    """Providers' changes to facts staff vouch for, oldest first; approve or reject each."""

    list_display = ["provider_link", "fact", "proposed_by_email", "proposed_at", "state"]
    list_display_links = ["fact"]
    list_filter = [DecidedFilter, "fact"]
    list_select_related = ["provider", "proposed_by"]
    search_fields = ["provider__name", "=provider__slug", "proposed_by__email"]
    ordering = ["proposed_at", "pk"]
    list_per_page = 50
    paginator = LargeTablePaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fields = [
        "provider_link",
        ("fact", "state"),
        ("proposed_by_email", "proposed_at"),
        "what_changes",
        ("decided_by", "decided_at"),
        "decision_note",
    ]
    decision_note_label = "Note to the provider"
    decision_note_help = "They read it with the outcome. Required to reject: say why."
    decisions = (
        Decision("_approve", "Approve", "approved", _approve),
        Decision(
            "_reject",
            "Reject",
            "rejected",
            _reject,
            note_missing="Say why, in a note the provider will read.",
        ),
    )

    def decisions_for(self, change):
        return list(self.decisions) if change.state == ProposedChange.State.WAITING else []

    def has_decide_permission(self, request):
        return request.user.has_perm("services.verify_provider")

    # Staff who can see listings can see the queue; the buttons need the verify permission.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("services.view_provider")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is not None and obj.state == ProposedChange.State.WAITING:
            # Nothing decided yet: the note is typed under the buttons.
            return self.fields[:4]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return [
            name for line in self.fields for name in (line if isinstance(line, tuple) else (line,))
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("provider", "proposed_by", "decided_by")

    @admin.display(description="listing", ordering="provider__name")
    def provider_link(self, change):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:services_provider_change", args=[change.provider_id]),
            change.provider.name,
        )

    @admin.display(description="proposed by", ordering="proposed_by__email")
    def proposed_by_email(self, change):
        return change.proposed_by.email if change.proposed_by else "-"

    @admin.display(description="what changes")
    def what_changes(self, change):
        rows = change_rows(change)
        return format_html(
            '<table class="proposed-change"><thead><tr><th scope="col">What</th>'
            '<th scope="col">Old</th><th scope="col">New</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            format_html_join(
                "",
                '<tr><th scope="row">{}</th><td><del>{}</del></td><td><ins>{}</ins></td></tr>',
                rows,
            ),
        )
