"""The pages the one-click links in providers' emails open: one button each, which does
what the link says (a link followed by a mail scanner changes nothing). A forged, old or
mismatched link gets a page saying so, with the way to sign in instead, and changes nothing.
"""

from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from services.models import Enquiry
from services.my_listing.access import listings_claim, listings_managed
from services.upkeep import availability, replies


def _template(name: str) -> str:
    return f"services/upkeep/{name}.html"


def _link_failed(request, what: str):
    return render(request, _template("link_failed"), {"what": what}, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
def availability_answer(request, token: str, answer: str):
    if answer not in availability.ANSWERS:
        raise Http404
    reminder = availability.reminder_of(token)
    if reminder is None or answer == "update" and not reminder.opens_listing:
        return _link_failed(request, "availability")
    provider = reminder.provider
    context = {"provider": provider, "answer": answer}
    if request.method != "POST":
        return render(request, _template("availability_answer"), context)
    if answer == "update":
        user = listings_claim(provider.email)
        if user is None or not listings_managed(user).filter(pk=provider.pk).exists():
            return _link_failed(request, "availability")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("services:my_listing_edit", listing=provider.uuid)
    changed = availability.availability_answer(provider=provider, taking=answer == "yes")
    return render(request, _template("availability_done"), {**context, "already": not changed})


@require_http_methods(["GET", "HEAD", "POST"])
def enquiry_answer(request, token: str, answer: str):
    if answer not in replies.ANSWERS:
        raise Http404
    enquiry = replies.enquiry_of(token)
    if enquiry is None:
        return _link_failed(request, "enquiry")
    context = {
        "enquiry": enquiry,
        "answer": answer,
        "reasons": Enquiry.CannotHelpReason.choices,
    }
    if enquiry.answer or request.method != "POST":
        return render(request, _template("enquiry_answer"), context)
    reason = request.POST.get("reason", "")
    if reason not in Enquiry.CannotHelpReason.values:
        reason = ""  # the reason is optional: an unknown one is no reason
    replies.enquiry_answer(enquiry=enquiry, answer=replies.ANSWERS[answer], reason=reason)
    enquiry.refresh_from_db()
    return render(request, _template("enquiry_answer"), {**context, "just_recorded": True})
