"""Facts staff vouch for wait for them: a provider's change to one is kept as a ProposedChange,
shown to the provider as "waiting for our check", and applied only when staff approve it.

Values are kept as the form's own data, so approving binds the same form again: what staff
approve is checked by the rules the provider's form had.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from services import listings
from services.models import OutgoingEmail, ProposedChange, Provider, Qualification, Service
from services.my_listing.editing import listing_edit
from services.my_listing.forms import ListingForm, QualificationForm, ServiceForm
from services.outbox import email_queue

Fact = ProposedChange.Fact
NOTHING = "—"


def form_data(form, fields=None) -> dict:
    """A bound form's submitted values for these fields (the model's, by default), as JSON."""
    names = fields or list(form._meta.fields)
    return {name: form.data.getlist(form.add_prefix(name)) for name in names if name in form.fields}


def bound(form_class, data: dict, **kwargs):
    query = QueryDict(mutable=True)
    for name, values in data.items():
        query.setlist(name, values)
    return form_class(query, **kwargs)


@transaction.atomic
def change_propose(
    *, provider: Provider, fact: str, by, new_value: dict, old_value=None, target_id=None
) -> ProposedChange:
    """Keep the change for staff. A waiting change to the same fact is replaced by it: the
    provider changed their mind before staff looked."""
    ProposedChange.objects.filter(
        provider=provider, fact=fact, target_id=target_id, state=ProposedChange.State.WAITING
    ).update(state=ProposedChange.State.WITHDRAWN, decided_at=timezone.now())
    return ProposedChange.objects.create(
        provider=provider,
        fact=fact,
        target_id=target_id,
        old_value=old_value,
        new_value=new_value,
        proposed_by=by,
    )


def _target(model, change: ProposedChange, provider: Provider):
    """The qualification or service the change was for; None for a new one."""
    if not change.target_id:
        return None
    try:
        return model.objects.get(pk=change.target_id, provider=provider)
    except model.DoesNotExist:
        raise ValidationError(
            f"The {model._meta.verbose_name} this change was for has been removed since; "
            "reject the change with a note instead."
        ) from None


def _waiting(change: ProposedChange) -> ProposedChange:
    change = ProposedChange.objects.select_for_update().get(pk=change.pk)
    if change.state != ProposedChange.State.WAITING:
        raise ValidationError(
            f"This change was {change.get_state_display().lower()} already; nothing was done."
        )
    return change


def _apply(change: ProposedChange, by) -> None:
    provider = change.provider
    comment = f"Approved the provider's change: {change.get_fact_display().lower()}."
    if change.fact == Fact.PUBLICATION:
        listings.provider_publish(provider=provider, by=by)
        return
    with listing_edit(provider_id=provider.pk, by=by, comment=comment) as provider:
        if change.fact in (Fact.NAME, Fact.KIND):
            form = ListingForm(provider=provider)
            field = form.fields[change.fact]
            value = field.clean(change.new_value[change.fact][0])
            setattr(provider, change.fact, value)
            provider.full_clean(exclude=["slug"])
        elif change.fact == Fact.QUALIFICATION:
            instance = _target(Qualification, change, provider)
            form = bound(QualificationForm, change.new_value, instance=instance, provider=provider)
            _save(form)
        elif change.fact in (Fact.SERVICE, Fact.SUPPORT_TYPE):
            instance = _target(Service, change, provider)
            data = change.new_value
            if instance is not None:
                # Only the vouched field changes; the rest stays as the provider left it.
                data = {**instance_data(ServiceForm, instance, provider), **data}
            form = bound(ServiceForm, data, instance=instance, provider=provider)
            _save(form)


def instance_data(form_class, instance, provider) -> dict:
    """The saved values of an instance, as a form would submit them."""
    form = form_class(instance=instance, provider=provider)
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name)
        if value is None or value is False:
            continue
        if isinstance(value, list | tuple):
            data[name] = [str(getattr(v, "pk", v)) for v in value]
        elif value is True:
            data[name] = ["on"]
        else:
            data[name] = [str(field.prepare_value(value))]
    return data


def _save(form) -> None:
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        raise ValidationError(f"This change no longer fits the listing ({problems}).")
    form.save()


@transaction.atomic
def change_approve(*, change: ProposedChange, by, note: str = "") -> None:
    """Apply the change to the listing, in its history under the staff member's name, and
    tell the provider."""
    change = _waiting(change)
    _apply(change, by)
    _decide(change, ProposedChange.State.APPROVED, by, note)


@transaction.atomic
def change_reject(*, change: ProposedChange, by, note: str) -> None:
    """Leave the listing as it is, and tell the provider why (the note is required)."""
    if not note.strip():
        raise ValidationError("Say why, in a note the provider will read.")
    change = _waiting(change)
    _decide(change, ProposedChange.State.REJECTED, by, note)


def change_withdraw(*, change: ProposedChange) -> None:
    """The provider took the change back before staff looked."""
    ProposedChange.objects.filter(pk=change.pk, state=ProposedChange.State.WAITING).update(
        state=ProposedChange.State.WITHDRAWN, decided_at=timezone.now()
    )


def _decide(change: ProposedChange, state: str, by, note: str) -> None:
    change.state = state
    change.decided_by = by
    change.decided_at = timezone.now()
    change.decision_note = note.strip()
    change.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    addresses = change.provider.managers.filter(revoked_at__isnull=True).values_list(
        "user__email", flat=True
    )
    for address in sorted(set(addresses)):
        email_queue(
            purpose=OutgoingEmail.Purpose.MODERATION,
            to=address,
            subject=f"Your change to your listing on {settings.SITE_NAME}: "
            f"{change.get_state_display().lower()}",
            body=render_to_string(
                "services/email/my_listing_decision.txt",
                {
                    "change": change,
                    "rows": change_rows(change),
                    "site_name": settings.SITE_NAME,
                    "listing_url": settings.SITE_URL
                    + reverse("services:my_listing_edit", args=[change.provider.uuid]),
                },
            ),
        )


def change_rows(change: ProposedChange) -> list[tuple[str, str, str]]:
    """(what, before, after) for each value the change sets, in words."""
    return ChangeWording(change.provider).rows(change)


class ChangeWording:
    """Puts a listing's changes into words: each form, and each field's choices (a query for
    a list of kinds of support or places), made once however many changes a page shows."""

    def __init__(self, provider: Provider):
        self.provider = provider
        self._forms = {}
        self._choices = {}

    def rows(self, change: ProposedChange) -> list[tuple[str, str, str]]:
        if change.fact == Fact.PUBLICATION:
            return [("Published", "No", "Yes")]
        if change.fact in (Fact.NAME, Fact.KIND):
            return [self._row(ListingForm, change.fact, change.old_value, change.new_value)]
        form_class = QualificationForm if change.fact == Fact.QUALIFICATION else ServiceForm
        given = {**(change.old_value or {}), **(change.new_value or {})}
        rows = [
            self._row(form_class, name, change.old_value, change.new_value)
            for name in self._form(form_class).fields
            if name in given
        ]
        return [row for row in rows if row[1:] != (NOTHING, NOTHING)]

    def _form(self, form_class):
        if form_class not in self._forms:
            self._forms[form_class] = form_class(provider=self.provider)
        return self._forms[form_class]

    def _row(self, form_class, name: str, old: dict | None, new: dict | None):
        field = self._form(form_class).fields[name]
        if (form_class, name) not in self._choices:
            self._choices[form_class, name] = {
                str(k): str(v) for k, v in getattr(field, "choices", []) if k != ""
            }
        choices = self._choices[form_class, name]
        return (
            str(field.label),
            _words(choices, (old or {}).get(name)),
            _words(choices, (new or {}).get(name)),
        )


def _words(choices: dict[str, str], values) -> str:
    """A submitted value as the form shows it: a choice's label, not its key."""
    if not values or values == [""]:
        return NOTHING
    return ", ".join(choices.get(str(v), "Yes" if v == "on" else str(v)) for v in values)
