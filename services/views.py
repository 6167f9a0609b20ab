"""Public pages."""

import re
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template import engines
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from services import page_frame
from services.comparison import comparison_build
from services.models import Concern, Provider, Service, SupportType
from services.profiles import Profile, profile_lead_with, profile_load, profiles_load
from services.search import results
from services.search.filters import (
    RADIUS_CHOICES,
    RADIUS_DEFAULT_KM,
    criteria_of,
    search_form,
)
from services.search.page import results_page
from services.shortlist import (
    COMPARE_MAX,
    COMPARE_MIN,
    KEPT_SEARCH,
    SHORTLIST_MAX,
    NotListed,
    ShortlistFull,
    kept_search,
    shortlist_add,
    shortlist_clear,
    shortlist_ids,
    shortlist_providers,
    shortlist_remove,
    shortlist_status,
)

FEATURED_PER_PAGE = 6


HOME_COUNTS_CACHE_SECONDS = 300


def home(request):
    # The same for everyone and slow to count at scale; a few minutes old is fine.
    counts = cache.get_or_set(
        "home:support-type-counts", _support_type_counts, HOME_COUNTS_CACHE_SECONDS
    )
    support_types = list(SupportType.objects.order_by("position", "name"))
    for support_type in support_types:
        support_type.provider_count = counts.get(support_type.pk, 0)
    return render(
        request,
        "services/home.html",
        {
            "support_types": support_types,
            "common_concerns": Concern.objects.filter(is_common=True),
            "form": search_form(),
            "radius_choices": RADIUS_CHOICES,
            "radius": RADIUS_DEFAULT_KM,
        },
    )


def find(request):
    """Results of a search; every criterion is a GET parameter, so a search is a link."""
    # No query for someone without a session cookie: the session loads only if there is one.
    shown = results_page(request, saved=set(shortlist_ids(request.session)))
    body = engines["jinja2"].get_template("services/find_body.html").render(shown.context, request)
    return HttpResponse(page_frame.results_page(request, shown.title, body), status=shown.status)


def _support_type_counts() -> dict[int, int]:
    """{support type id: published providers offering it}."""
    offering = (
        Service.objects.filter(provider__status=Provider.Status.PUBLISHED)
        .values("support_type")
        .annotate(providers=Count("provider", distinct=True))
        .order_by()
    )
    return {row["support_type"]: row["providers"] for row in offering}


def support_type_detail(request, slug):
    support_type = get_object_or_404(SupportType, slug=slug)
    featured = _featured(Q(services__support_type=support_type))
    return render(
        request,
        "services/support_type_detail.html",
        {
            "support_type": support_type,
            "featured": featured,
            "find_query": f"type={support_type.slug}",
        },
    )


def concern_detail(request, slug):
    concern = get_object_or_404(Concern, slug=slug)
    featured = _featured(Q(services__concerns=concern))
    return render(
        request,
        "services/concern_detail.html",
        {"concern": concern, "featured": featured, "find_query": f"concern={concern.slug}"},
    )


def _featured(offers: Q) -> list[Provider]:
    """A few recently checked listings that offer it, for the explanation pages."""
    matching = Provider.objects.published().filter(
        pk__in=Provider.objects.filter(offers).values("pk")
    )
    featured = list(
        matching.filter(accepting_now=True).order_by("-last_verified", "name")[:FEATURED_PER_PAGE]
    )
    results.annotate_cards(featured, results.Criteria({}), timezone.localdate())
    return featured


def provider_detail(request, slug):
    # Staff may preview a listing before it is public; for everyone else it does not exist.
    profile = profile_load(slug, include_unpublished=request.user.is_staff)
    saved = shortlist_ids(request.session)
    return render(
        request,
        "services/provider_detail.html",
        {
            "provider": profile.provider,
            "profile": profile,
            # A result card links here with the service it led with: that one comes first.
            "matched": profile_lead_with(profile, request.GET.get("service")),
            "saved": profile.provider.pk in saved,
            "shortlist_status": shortlist_status(len(saved)),
            # The place searched from goes on to the shortlist and the comparison, for distances.
            "shortlist_url": reverse("services:shortlist") + kept_search(request.GET),
            # And to the message form: should the provider not answer, the person can be sent
            # other listings that meet the same search.
            "contact_url": reverse("services:provider_contact", args=[slug])
            + kept_search(request.GET),
            "canonical_url": request.build_absolute_uri(profile.provider.get_absolute_url()),
            "structured_data": _structured_data(profile, request),
        },
    )


def _structured_data(profile: Profile, request) -> dict:
    """schema.org facts for search engines: only what the page itself shows."""
    provider = profile.provider
    data = {
        "@context": "https://schema.org",
        "@type": "Person" if provider.kind == Provider.Kind.INDIVIDUAL else "Organization",
        "name": provider.name,
        "url": request.build_absolute_uri(provider.get_absolute_url()),
        "description": provider.statement[:500],
        "knowsLanguage": [language.name for language in profile.languages],
        "knowsAbout": [concern.name for concern in profile.concerns],
        "hasCredential": [
            {
                "@type": "EducationalOccupationalCredential",
                "name": q.title,
                "credentialCategory": q.get_kind_display(),
            }
            for q in profile.qualifications
        ],
    }
    if provider.phone:
        data["telephone"] = provider.phone
    if provider.email:
        data["email"] = provider.email
    addresses = []
    for location in profile.locations:
        # Only as much of the address as the provider chose to show.
        place = location.public
        address = {
            "@type": "PostalAddress",
            "addressLocality": place.town,
            "addressCountry": place.country,
        }
        if place.address_line1:
            address["streetAddress"] = place.address_line1
        if place.postcode:
            address["postalCode"] = place.postcode
        addresses.append(address)
    if addresses:
        data["address"] = addresses[0] if len(addresses) == 1 else addresses
    return data


# --------------------------------------------------------------------------- shortlist

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,220}")


@require_http_methods(["GET", "HEAD", "POST"])
def shortlist(request):
    """The listings saved in this session; a POST saves one (`add`), takes one off
    (`remove`) or empties it (`clear`), then goes back to `next`."""
    if request.method == "POST":
        return _shortlist_change(request)
    ids = shortlist_ids(request.session)
    providers = shortlist_providers(ids)
    results.annotate_cards(providers, results.Criteria({}), timezone.localdate())
    search = [(name, value) for name in KEPT_SEARCH for value in request.GET.getlist(name) if value]
    return render(
        request,
        "services/shortlist.html",
        {
            "providers": providers,
            "gone": len(ids) - len(providers),
            "search": search,
            "search_query": kept_search(request.GET),
            "shortlist_status": shortlist_status(len(providers)),
            "compare_min": COMPARE_MIN,
            "compare_max": COMPARE_MAX,
            "shortlist_max": SHORTLIST_MAX,
            # Each change saves the session, which keeps it this long from then.
            "kept_days": settings.SESSION_COOKIE_AGE // 86400,
            "next_url": request.get_full_path(),
        },
    )


def _shortlist_change(request):
    wants_json = request.accepts("application/json") and not request.accepts("text/html")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("services:shortlist")
    session = request.session
    provider, status, problem = None, 200, ""
    if "add" in request.POST:
        slug = request.POST["add"]
        try:
            if not SLUG.fullmatch(slug):
                raise NotListed(slug)
            provider = shortlist_add(session=session, slug=slug)
            message = f"Saved {provider.name} to your shortlist."
        except NotListed:
            status, problem = (
                404,
                ("That listing is not in the directory at the moment, so it could not be saved."),
            )
        except ShortlistFull:
            status, problem = (
                409,
                (
                    f"Your shortlist is full: it holds up to {SHORTLIST_MAX} listings. "
                    "Remove one you no longer need, then save this one."
                ),
            )
    elif "remove" in request.POST:
        slug = request.POST["remove"]
        provider = shortlist_remove(session=session, slug=slug) if SLUG.fullmatch(slug) else None
        message = (
            f"Removed {provider.name} from your shortlist."
            if provider
            else "That listing was not on your shortlist."
        )
    elif "clear" in request.POST:
        shortlist_clear(session=session)
        message = "Your shortlist is empty now."
    else:
        status, problem = 400, "Nothing was asked: choose “Save” or “Remove” on a listing."
    count = len(shortlist_ids(session))
    if problem:
        if wants_json:
            return JsonResponse({"error": problem, "count": count}, status=status)
        return render(
            request,
            "services/shortlist_problem.html",
            {"problem": problem, "next_url": next_url},
            status=status,
        )
    if wants_json:
        saved = "add" in request.POST
        return JsonResponse(
            {"saved": saved, "count": count, "message": f"{message} {_saved_count(count)}"}
        )
    if provider is not None and "#" not in next_url:
        # Back to the listing the button was on, not to the top of a long page.
        next_url += f"#provider-{provider.pk}"
    return HttpResponseRedirect(next_url, status=303)


def _saved_count(count: int) -> str:
    if not count:
        return "Nothing is saved now."
    return f"{count} saved in all." if count > 1 else "1 saved in all."


@require_GET
def compare(request):
    """Two to four listings side by side: /compare/?p=<slug>&p=<slug>, with the search
    they came from (near, concern) to measure distances and mark what was searched for."""
    asked = list(dict.fromkeys(slug for slug in request.GET.getlist("p") if slug))
    search_query = kept_search(request.GET)
    context = {
        "shortlist_url": reverse("services:shortlist") + search_query,
        # A profile opened from here keeps the place, for the way back to the comparison.
        "search_query": search_query,
        "compare_min": COMPARE_MIN,
        "compare_max": COMPARE_MAX,
        "asked": len(asked),
    }
    if len(asked) < COMPARE_MIN:
        context["problem"] = "few"
        return render(request, "services/compare.html", context, status=400)
    if len(asked) > COMPARE_MAX:
        first = [("p", slug) for slug in asked[:COMPARE_MAX]]
        kept = [(n, v) for n, values in request.GET.lists() if n != "p" for v in values]
        context["problem"] = "many"
        context["first_url"] = "?" + urlencode(first + kept)
        return render(request, "services/compare.html", context, status=400)
    profiles = profiles_load([slug for slug in asked if SLUG.fullmatch(slug)])
    context["gone"] = len(asked) - len(profiles)
    if len(profiles) < COMPARE_MIN:
        context.update(problem="gone", profiles=profiles)
        return render(request, "services/compare.html", context, status=404)
    form = search_form(request.GET)
    criteria = criteria_of(form)
    comparison = comparison_build(profiles, criteria, timezone.localdate())
    columns = [
        {
            "profile": profile,
            "remove_query": results.without(request.GET, "p", value=profile.provider.slug)
            if len(profiles) > COMPARE_MIN
            else "",
        }
        for profile in profiles
    ]
    context.update(
        comparison=comparison,
        columns=columns,
        place=criteria.place,
        place_error=" ".join(form.errors.get("near", [])),
        searched=bool(criteria.data.get("concern")),
    )
    return render(request, "services/compare.html", context)


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
