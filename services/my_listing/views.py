"""/my-listing/: a provider signs in by email link and keeps their own listing current.

Every save goes through editing.listing_edit (the version lock, the change history, the
results within seconds); a change to a fact staff vouch for is kept for them instead.
A refused save answers 4xx with everything typed still in the form.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from services import listings, photos
from services.models import ProposedChange, Provider
from services.my_listing import moderation
from services.my_listing.access import listings_managed
from services.my_listing.editing import EditConflict, listing_edit
from services.my_listing.forms import (
    VOUCHED_LISTING_FIELDS,
    VOUCHED_SERVICE_FIELDS,
    ListingForm,
    PlaceForm,
    QualificationForm,
    ServiceForm,
    SignInForm,
)
from services.my_listing.sign_in import sign_in_link_request, sign_in_with
from services.photos import PhotoForm

Fact = ProposedChange.Fact

EDIT_CONFLICT = (
    "Someone else saved this listing after you opened this page, so your changes were not "
    "saved. They are still in the form below: open your listing in a new tab to see the "
    "newer version, then save here again to keep your changes."
)


def _template(name: str) -> str:
    return f"services/my_listing/{name}.html"


@require_http_methods(["GET", "HEAD", "POST"])
def my_listing(request):
    """Signed in: the listings this person manages. Otherwise: ask for a sign-in link."""
    listings = list(listings_managed(request.user).order_by("name"))
    if listings:
        if len(listings) == 1:
            return redirect("services:my_listing_edit", listing=listings[0].uuid)
        return render(request, _template("listings"), {"listings": listings})
    if request.method != "POST":
        return render(request, _template("sign_in"), {"form": SignInForm(initial=request.GET)})
    form = SignInForm(request.POST)
    if not form.is_valid():
        return render(request, _template("sign_in"), {"form": form}, status=400)
    if not sign_in_link_request(request, form.cleaned_data["email"]):
        return render(
            request, _template("sign_in"), {"form": form, "rate_limited": True}, status=429
        )
    return render(request, _template("sign_in_sent"), {"email": form.cleaned_data["email"]})


@require_http_methods(["GET", "HEAD", "POST"])
def my_listing_sign_in(request, token: str):
    if request.method != "POST":
        return render(request, _template("sign_in_link"), {"token": token})
    if sign_in_with(request, token) is None:
        return render(
            request, _template("sign_in_link"), {"failed": True, "form": SignInForm()}, status=400
        )
    return redirect("services:my_listing")


@require_POST
def my_listing_sign_out(request):
    logout(request)
    messages.success(request, "You have signed out.")
    return redirect("services:my_listing")


def managed(view):
    """The view's listing, if the person signed in manages it: else the sign-in page (not
    signed in) or a 403 (someone else's listing)."""

    @wraps(view)
    def wrapper(request, listing, **kwargs):
        if not request.user.is_authenticated or request.user.is_staff:
            return redirect("services:my_listing")
        provider = listings_managed(request.user).filter(uuid=listing).first()
        if provider is None:
            return render(request, _template("not_yours"), status=403)
        return view(request, provider, **kwargs)

    return wrapper


class Refused(Exception):
    """The save was refused; the page goes back with the form and this status."""

    def __init__(self, status: int):
        self.status = status


def _saved(request, provider, form, *, comment: str, change) -> None:
    """Run `change(locked_provider)` under the listing's lock, as one revision. On a
    conflict or a broken rule, the form carries the reason and Refused is raised."""
    opened = form.cleaned_data.get("opened_at_version")
    try:
        with listing_edit(
            provider_id=provider.pk,
            by=request.user,
            comment=comment,
            opened_at_version=-1 if opened is None else opened,
        ) as locked:
            change(locked)
    except EditConflict:
        # The newer number goes back with the form: saving again (having looked) is meant.
        form.data = form.data.copy()
        form.data[form.add_prefix("opened_at_version")] = str(_version(provider))
        form.add_error(None, EDIT_CONFLICT)
        raise Refused(409) from None
    except ValidationError as error:
        form.add_error(None, error)
        raise Refused(400) from None


def _version(provider) -> int:
    return Provider.objects.filter(pk=provider.pk).values_list("edit_version", flat=True).get()


def _done(request, provider, note: str):
    messages.success(request, note)
    return redirect("services:my_listing_edit", listing=provider.uuid)


def _saved_note(waiting: list[str]) -> str:
    """What a save did, when some of it waits for staff: the facts by name."""
    if not waiting:
        return "Saved. Your changes are live."
    facts = " and ".join(Fact(name).label.lower() for name in waiting)
    them = "it" if len(waiting) == 1 else "them"
    return f"Saved. Your other changes are live; we will check the {facts} before showing {them}."


@require_http_methods(["GET", "HEAD", "POST"])
@managed
def my_listing_edit(request, provider):
    template = _template("edit")
    context = _listing_context(provider)
    if request.method != "POST":
        return render(request, template, {**context, "form": ListingForm(provider=provider)})
    form = ListingForm(request.POST, provider=Provider.objects.get(pk=provider.pk))
    if not form.is_valid():
        return render(request, template, {**context, "form": form}, status=400)
    vouched = [name for name in VOUCHED_LISTING_FIELDS if name in form.changed_data]

    def change(locked):
        for name in form._meta.fields:
            if name in vouched:
                moderation.change_propose(
                    provider=locked,
                    fact=name,
                    by=request.user,
                    old_value={name: [str(getattr(locked, name))]},
                    new_value=moderation.form_data(form, [name]),
                )
            elif hasattr(form.fields[name], "queryset"):
                getattr(locked, name).set(form.cleaned_data[name])
            else:
                setattr(locked, name, form.cleaned_data[name])
        # The form confirms their availability (accepting_confirmed_on), which releases a
        # pause for unanswered messages as the reminder's links do.
        locked.paused_for_replies_at = None

    try:
        _saved(request, provider, form, comment="Edited by the provider.", change=change)
    except Refused as refused:
        return render(request, template, {**context, "form": form}, status=refused.status)
    return _done(request, provider, _saved_note(vouched))


def _listing_context(provider) -> dict:
    changes = list(
        provider.proposed_changes.exclude(state=ProposedChange.State.WITHDRAWN).order_by(
            "-proposed_at"
        )[:20]
    )
    waiting = [c for c in changes if c.state == ProposedChange.State.WAITING]
    wording = moderation.ChangeWording(provider)
    return {
        "provider": provider,
        "services": list(provider.services.select_related("support_type")),
        "places": list(provider.locations.all()),
        "qualifications": list(provider.qualifications.all()),
        "waiting": [(c, wording.rows(c)) for c in waiting],
        "decided": [
            (c, wording.rows(c)) for c in changes if c.state != ProposedChange.State.WAITING
        ][:5],
        "publication_waiting": any(c.fact == Fact.PUBLICATION for c in waiting),
    }


def _part_start(request, provider, part: str, form_class, instance):
    """What the pages of a service, a place and a qualification begin with: the page's context
    (titled for the item, or for adding one), and on GET the page with its form (else None)."""
    title = f"Change {instance}" if instance else f"Add a {part}"
    context = {"provider": provider, "title": title, "instance": instance, "part": part}
    if request.method == "POST":
        return context, None
    form = form_class(instance=instance, provider=provider)
    return context, render(request, _template("part"), {**context, "form": form})


def _part(request, provider, form, context, *, comment, change, note):
    """Save one part of the listing (a service, a place) from a valid form, or the page
    again with the form."""
    template = _template("part")
    if not form.is_valid():
        return render(request, template, {**context, "form": form}, status=400)
    try:
        _saved(request, provider, form, comment=comment, change=change)
    except Refused as refused:
        return render(request, template, {**context, "form": form}, status=refused.status)
    return _done(request, provider, note)


@require_http_methods(["GET", "HEAD", "POST"])
@managed
def my_listing_service(request, provider, service=None):
    instance = get_object_or_404(provider.services, uuid=service) if service else None
    context, shown = _part_start(request, provider, "service", ServiceForm, instance)
    if shown:
        return shown
    old_support_type = instance.support_type_id if instance else None
    form = ServiceForm(request.POST, instance=instance, provider=provider)
    vouched = instance is not None and form.is_valid() and "support_type" in form.changed_data

    def change(locked):
        if instance is None:
            moderation.change_propose(
                provider=locked,
                fact=Fact.SERVICE,
                by=request.user,
                new_value=moderation.form_data(form),
            )
            return
        if vouched:
            moderation.change_propose(
                provider=locked,
                fact=Fact.SUPPORT_TYPE,
                by=request.user,
                target_id=instance.pk,
                old_value={"support_type": [str(old_support_type)]},
                new_value=moderation.form_data(form, list(VOUCHED_SERVICE_FIELDS)),
            )
            form.instance.support_type_id = old_support_type
        form.save()

    if instance is None:
        note = "Thank you. We will check your new service and add it to your listing."
    elif vouched:
        note = _saved_note([Fact.SUPPORT_TYPE])
    else:
        note = "Saved. Your changes are live."
    comment = f"Service {'added' if instance is None else 'changed'} by the provider."
    return _part(
        request,
        provider,
        form,
        context,
        comment=comment,
        change=change,
        note=note,
    )


@require_POST
@managed
def my_listing_service_remove(request, provider, service):
    instance = get_object_or_404(provider.services, uuid=service)

    def change(locked):
        listings.services_left_check(
            provider=locked,
            left=locked.services.count() - 1,
            remedy="Add another before you remove this one, or ask us to take the listing down.",
        )
        instance.delete()

    return _removed(request, provider, change, f"Service removed by the provider: {instance}.")


def _removed(request, provider, change, comment: str):
    try:
        with listing_edit(provider_id=provider.pk, by=request.user, comment=comment) as locked:
            change(locked)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("services:my_listing_edit", listing=provider.uuid)
    return _done(request, provider, "Removed.")


@require_http_methods(["GET", "HEAD", "POST"])
@managed
def my_listing_place(request, provider, place=None):
    instance = get_object_or_404(provider.locations, uuid=place) if place else None
    context, shown = _part_start(request, provider, "place", PlaceForm, instance)
    if shown:
        return shown
    form = PlaceForm(request.POST, instance=instance, provider=provider)
    comment = f"Place {'added' if instance is None else 'changed'} by the provider."
    return _part(
        request,
        provider,
        form,
        context,
        comment=comment,
        change=lambda locked: form.save(),
        note="Saved. Your changes are live.",
    )


@require_POST
@managed
def my_listing_place_remove(request, provider, place):
    instance = get_object_or_404(provider.locations, uuid=place)
    return _removed(
        request,
        provider,
        lambda locked: instance.delete(),
        f"Place removed by the provider: {instance}.",
    )


@require_http_methods(["GET", "HEAD", "POST"])
@managed
def my_listing_qualification(request, provider, qualification=None):
    instance = (
        get_object_or_404(provider.qualifications, pk=qualification) if qualification else None
    )
    context, shown = _part_start(request, provider, "qualification", QualificationForm, instance)
    if shown:
        return shown
    old = moderation.instance_data(QualificationForm, instance, provider) if instance else None
    form = QualificationForm(request.POST, instance=instance, provider=provider)
    if not form.is_valid():
        return render(request, _template("part"), {**context, "form": form}, status=400)
    moderation.change_propose(
        provider=provider,
        fact=Fact.QUALIFICATION,
        by=request.user,
        target_id=instance.pk if instance else None,
        old_value=old,
        new_value=moderation.form_data(form),
    )
    return _done(request, provider, "Thank you. We will check it and add it to your listing.")


@require_POST
@managed
def my_listing_qualification_remove(request, provider, qualification):
    instance = get_object_or_404(provider.qualifications, pk=qualification)
    return _removed(
        request,
        provider,
        lambda locked: instance.delete(),
        f"Qualification removed by the provider: {instance}.",
    )


@require_http_methods(["GET", "HEAD", "POST"])
@managed
def my_listing_photo(request, provider):
    template = _template("part")
    context = {"provider": provider, "title": "Your photo", "instance": None, "part": "photo"}
    has_photo = bool(provider.photo_card)
    if request.method != "POST":
        form = PhotoForm(has_photo=has_photo, initial={"photo_alt": provider.photo_alt})
        return render(request, template, {**context, "form": form, "multipart": True})
    form = PhotoForm(request.POST, request.FILES, has_photo=has_photo)
    if not form.is_valid():
        return render(request, template, {**context, "form": form, "multipart": True}, status=400)
    data = form.cleaned_data
    with listing_edit(
        provider_id=provider.pk, by=request.user, comment="Photo changed by the provider."
    ) as locked:
        if data.get("remove_photo"):
            photos.photo_remove(provider=locked)
        else:
            if data["photo"]:
                photos.photo_save(provider=locked, upload=data["photo"])
            locked.photo_alt = data["photo_alt"].strip()
    return _done(request, provider, "Saved. Your photo is live.")


@require_POST
@managed
def my_listing_publish(request, provider):
    """A first publication always waits for staff."""
    if provider.status != Provider.Status.DRAFT:
        messages.error(request, "This listing is not a draft.")
    else:
        problems = provider.publication_problems()
        if problems:
            messages.error(request, "Before we can publish it: " + "; ".join(problems) + ".")
        else:
            moderation.change_propose(
                provider=provider, fact=Fact.PUBLICATION, by=request.user, new_value={}
            )
            messages.success(request, "Thank you. We will check your listing and publish it.")
    return redirect("services:my_listing_edit", listing=provider.uuid)


@require_POST
@managed
def my_listing_withdraw(request, provider, change):
    proposed = get_object_or_404(provider.proposed_changes, pk=change)
    moderation.change_withdraw(change=proposed)
    return _done(request, provider, "Withdrawn: that change will not be made.")
