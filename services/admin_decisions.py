"""Buttons on an admin change page that decide the item (resolve a report, approve a change),
each with a note, for admins whose items staff act on rather than edit."""

import copy
from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse


@dataclass(frozen=True)
class Decision:
    button: str  # the submit button's name, e.g. "_resolve"
    label: str  # what the button says
    done: str  # past tense, for the message and the admin log: "resolved"
    run: Callable  # run(item, by, note)
    # When the note is required: what to say when it is missing.
    note_missing: str = ""


class DecisionForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), required=False)

    def __init__(self, *args, label: str, help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].label = label
        self.fields["note"].help_text = help_text


class DecisionAdminMixin:
    """A read-only change page with decision buttons under the item.

    The buttons sit in the admin's own change form (a read-only page has one, with nothing to
    submit), so the page needs no second form. A decision refused (a missing note) shows the
    page again with the note as typed; one made goes back to the list with a message.
    """

    change_form_template = "admin/services/decision_change_form.html"
    # Every decision the admin offers; decisions_for() says which one item can still take.
    decisions: tuple[Decision, ...] = ()
    # None: the decisions take no note.
    decision_note_label: str | None = None
    decision_note_help = ""

    def has_decide_permission(self, request) -> bool:
        raise NotImplementedError

    def decisions_for(self, item) -> list[Decision]:
        """The decisions this item can still take (none once it is decided)."""
        raise NotImplementedError

    def _decision_form(self, data=None):
        if self.decision_note_label is None:
            return None
        return DecisionForm(data, label=self.decision_note_label, help_text=self.decision_note_help)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        item = self.get_object(request, unquote(object_id))
        if item is not None and request.method == "POST":
            response = self._decide(request, item, object_id, form_url, extra_context)
            if response is not None:
                return response
        elif item is not None:
            offered = self.decisions_for(item) if self.has_decide_permission(request) else []
            extra_context.setdefault("decisions", offered)
            extra_context.setdefault("decision_form", self._decision_form())
        return super().change_view(request, object_id, form_url, extra_context)

    def _decide(self, request, item, object_id, form_url, extra_context):
        asked = {name for name in request.POST if name.startswith("_")}
        offered = {d.button: d for d in self.decisions_for(item)}
        known = {d.button for d in self.decisions}
        if not asked & known:
            return None  # not a decision: the admin's own handling (a 403 when read-only)
        if not self.has_decide_permission(request):
            raise PermissionDenied
        chosen = next((offered[name] for name in asked if name in offered), None)
        form = self._decision_form(request.POST)
        if chosen is None:
            # Decided by someone else while this page was open.
            typed = request.POST.get("note", "").strip()
            self.message_user(
                request,
                f"This {self.model._meta.verbose_name} was already decided; nothing was done."
                + (f" Your note was: “{typed}”" if typed else ""),
                messages.WARNING,
            )
            return self._show_again(request, item, object_id, form_url, extra_context, form)
        note = ""
        if form is not None:
            if form.is_valid():
                note = form.cleaned_data["note"].strip()
            if chosen.note_missing and not note and "note" not in form.errors:
                form.add_error("note", chosen.note_missing)
            if not form.is_valid():
                return self._show_again(request, item, object_id, form_url, extra_context, form)
        try:
            chosen.run(item, request.user, note)
        except ValidationError as error:
            if form is None:
                for message in error.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                form.add_error(None, error)
            return self._show_again(request, item, object_id, form_url, extra_context, form)
        self.log_change(request, item, chosen.done.capitalize() + (f": {note}" if note else ""))
        self.message_user(
            request,
            f"The {self.model._meta.verbose_name} “{item}” was {chosen.done}.",
            messages.SUCCESS,
        )
        opts = self.model._meta
        url = reverse(
            f"admin:{opts.app_label}_{opts.model_name}_changelist",
            current_app=self.admin_site.name,
        )
        preserved = {"preserved_filters": self.get_preserved_filters(request), "opts": opts}
        return HttpResponseRedirect(add_preserved_filters(preserved, url))

    def _show_again(self, request, item, object_id, form_url, extra_context, form):
        # The admin would answer a POST to a read-only page with a 403: show it as for a GET.
        as_read = copy.copy(request)
        as_read.method = "GET"
        offered = self.decisions_for(item)
        extra_context = {**extra_context, "decisions": offered, "decision_form": form}
        response = super().change_view(as_read, object_id, form_url, extra_context)
        if form is not None and form.errors:
            response.status_code = 400
        return response
