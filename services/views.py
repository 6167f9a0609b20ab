"""Public pages."""

import re
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template import engines
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from services import page_frame
from services.comparison import comparison_build
from services.fixed_urls import fixed_url
from services.models import Concern, Provider, Service, SupportType
from services.profiles import Profile, profile_load, profiles_load
from services.search import listing_index, matching, results
from services.search.facets import facet_counts
from services.search.filters import (
    RADIUS_CHOICES,
    RADIUS_DEFAULT_KM,
    SORTS,
    criteria_of,
    field_labels,
    search_form,
    typed_values,
)
from services.search.text import suggest_spelling
from services.shortlist import (
    COMPARE_MAX,
    COMPARE_MIN,
    SHORTLIST_MAX,
    NotListed,
    ShortlistFull,
    shortlist_add,
    shortlist_clear,
    shortlist_ids,
    shortlist_providers,
    shortlist_remove,
)

RESULTS_PER_PAGE = 20
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
    # Made only if the database is asked (a phrase; SQLite): building even this one
    # filter costs about 0.3 ms, on every results page.
    base = SimpleLazyObject(Provider.objects.published)
    query = request.GET.copy()
    # First: seeing that the listings changed also forgets the places they named.
    index = listing_index.current_index()
    form = search_form(query)
    criteria = criteria_of(form)
    result_list = matching.results(index, criteria, base)
    corrected_from = ""
    if not result_list.count() and criteria.data.get("q"):
        suggestion = suggest_spelling(criteria.data["q"])
        if suggestion:
            corrected_from = criteria.data["q"]
            query["q"] = suggestion
            form = search_form(query)
            criteria = criteria_of(form)
            result_list = matching.results(index, criteria, base)

    paginator = Paginator(result_list, RESULTS_PER_PAGE)
    if len(set(request.GET.getlist("page"))) > 1:
        page_number, page_error = 1, "More than one page number came, so here is the first page."
    else:
        page_number, page_error = _page_number(request.GET.get("page"), paginator.num_pages)
    page = paginator.page(page_number)
    results.annotate_cards(page.object_list, criteria, timezone.localdate())

    def count(relaxed) -> int:
        # The same words and, mostly, the same place: their matches are reused, so no
        # query and no distances per suggestion.
        return matching.count(index, relaxed, base, earlier=result_list.parts)

    place_label = criteria.place.label if criteria.place else ""
    counts = facet_counts(criteria, base, selection=result_list.selection)
    # No query for someone without a session cookie: the session loads only if there is one.
    saved = set(shortlist_ids(request.session))
    context = {
        "form": form,
        "typed": typed_values(form),
        "field_labels": field_labels(),
        "radius_choices": sorted({*RADIUS_CHOICES, criteria.radius_km}),
        "radius": criteria.radius_km,
        "page": page,
        "paginator": paginator,
        "criteria": criteria,
        "sort": criteria.sort(),
        "sorts": [(value, label) for value, label in SORTS if _sort_applies(value, criteria)],
        "summary": results.summary(paginator.count, criteria, place_label),
        "chips": results.chips(criteria, query, place_label),
        "groups": results.filter_groups(form, counts),
        "flag_options": results.flag_options(form, counts),
        "place_choices": form.place_choices,
        "corrected_from": corrected_from,
        "page_error": page_error,
        "relaxations": results.relaxations(form, criteria, count, query, place_label)
        if paginator.count == 0
        else [],
        "saved": saved,
        "shortlist_status": shortlist_status(len(saved)),
        "shortlist_url": fixed_url("services:shortlist") + kept_search(request.GET),
        "next_url": request.get_full_path(),
    }
    body = engines["jinja2"].get_template("services/find_body.html").render(context, request)
    title = context["summary"] if criteria.data else "Find support"
    bad_input = bool(form.errors or page_error)
    return HttpResponse(
        page_frame.results_page(request, title, body), status=400 if bad_input else 200
    )


def _support_type_counts() -> dict[int, int]:
    """{support type id: published providers offering it}."""
    offering = (
        Service.objects.filter(provider__status=Provider.Status.PUBLISHED)
        .values("support_type")
        .annotate(providers=Count("provider", distinct=True))
        .order_by()
    )
    return {row["support_type"]: row["providers"] for row in offering}


def _sort_applies(value: str, criteria) -> bool:
    if value == "relevance":
        return bool(criteria.data.get("q"))
    if value == "distance":
        return criteria.place is not None
    return True


def _page_number(raw: str | None, num_pages: int) -> tuple[int, str]:
    if raw in (None, ""):
        return 1, ""
    try:
        number = int(raw)
    except (TypeError, ValueError):
        return 1, "That page number was not a number, so here is the first page."
    if number < 1:
        return 1, "Pages start at 1, so here is the first page."
    if number > num_pages:
        pages = "is only 1 page" if num_pages == 1 else f"are only {num_pages} pages"
        return num_pages, f"There {pages} of results, so here is the last one."
    return number, ""


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
        matching.filter(accepting_new_clients=True).order_by("-last_verified", "name")[
            :FEATURED_PER_PAGE
        ]
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
            "saved": profile.provider.pk in saved,
            "shortlist_status": shortlist_status(len(saved)),
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

# What the shortlist and the comparison keep of a search: the place, for distances, and
# what was searched for, to mark it.
KEPT_SEARCH = ("q", "near", "lat", "lng", "concern")
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,220}")


def kept_search(query) -> str:
    """ "?near=Leeds&concern=grief" from a results page's query ("" if none of it)."""
    pairs = [(name, value) for name in KEPT_SEARCH for value in query.getlist(name) if value]
    return "?" + urlencode(pairs) if pairs else ""


def shortlist_status(count: int) -> str:
    if not count:
        return ""
    return f"{count} listing{'' if count == 1 else 's'} on your shortlist."


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
    context = {
        "shortlist_url": reverse("services:shortlist") + kept_search(request.GET),
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
