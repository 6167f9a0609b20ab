"""Pages where the public sends something: a message to a provider, a recommendation, a
report that a listing is wrong. Each is a form page (GET shows it, POST sends it) and a page
saying what happens next; only the form pages set a CSRF cookie, and none starts a session.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from services import throttle
from services.enquiries import enquiry_submit
from services.forms import EnquiryForm, PublicForm, RecommendationForm, ReportForm
from services.models import Provider
from services.recommendations import recommendation_submit
from services.reports import report_submit
from services.upkeep import replies


@dataclass(frozen=True)
class FormKind:
    scope: str  # the rate limit's name for it
    form: type[PublicForm]
    submit: Callable
    template: str
    done: str  # the URL name of the "what happens next" page
    done_template: str
    # What the write function takes from the page's address besides the form.
    from_address: Callable | None = None


KINDS = {
    "contact": FormKind(
        "enquiry",
        EnquiryForm,
        enquiry_submit,
        "services/provider_contact.html",
        "services:provider_contact_sent",
        "services/provider_contact_sent.html",
        # The search the profile was reached from, for a follow-up should nobody answer.
        lambda query: {"came_from": replies.came_from(query)},
    ),
    "recommend": FormKind(
        "recommendation",
        RecommendationForm,
        recommendation_submit,
        "services/provider_recommend.html",
        "services:provider_recommend_thanks",
        "services/provider_recommend_thanks.html",
    ),
    "report": FormKind(
        "report",
        ReportForm,
        report_submit,
        "services/provider_report.html",
        "services:provider_report_thanks",
        "services/provider_report_thanks.html",
    ),
}


def _provider(slug: str, kind: str) -> Provider:
    providers = Provider.objects.published().only("pk", "name", "slug", "email", "phone", "website")
    if kind == "contact":
        # The form sends an email; a listing without an address is reached by phone or website.
        providers = providers.exclude(email="")
    return get_object_or_404(providers, slug=slug)


def _form_page(request, slug: str, kind_name: str):
    kind = KINDS[kind_name]
    provider = _provider(slug, kind_name)
    context = {"provider": provider}
    if request.method != "POST":
        return render(request, kind.template, {**context, "form": kind.form()})
    form = kind.form(request.POST)
    if not form.is_valid():
        return render(request, kind.template, {**context, "form": form}, status=400)
    # Only a valid form counts (one with a mistake in it is sent again once corrected). It is
    # checked first, which has no effect, so that nothing counted has to be given back.
    if not throttle.form_rate_allows(request, kind.scope):
        # Refused, with everything the person typed still in the form.
        return render(
            request, kind.template, {**context, "form": form, "rate_limited": True}, status=429
        )
    if not form.is_spam():
        from_address = kind.from_address(request.GET) if kind.from_address else {}
        kind.submit(provider=provider, **form.submitted(), **from_address)
    return redirect(kind.done, slug=provider.slug)


def _done_page(request, slug: str, kind_name: str):
    kind = KINDS[kind_name]
    return render(
        request,
        kind.done_template,
        {"provider": _provider(slug, kind_name), "working_days": settings.REPLY_WORKING_DAYS},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def provider_contact(request, slug):
    return _form_page(request, slug, "contact")


@require_GET
def provider_contact_sent(request, slug):
    return _done_page(request, slug, "contact")


@require_http_methods(["GET", "HEAD", "POST"])
def provider_recommend(request, slug):
    return _form_page(request, slug, "recommend")


@require_GET
def provider_recommend_thanks(request, slug):
    return _done_page(request, slug, "recommend")


@require_http_methods(["GET", "HEAD", "POST"])
def provider_report(request, slug):
    return _form_page(request, slug, "report")


@require_GET
def provider_report_thanks(request, slug):
    return _done_page(request, slug, "report")
