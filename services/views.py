"""Public pages."""

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from services import facet_index, matching, results
from services.facets import facet_counts
from services.filters import RADIUS_CHOICES, RADIUS_DEFAULT_KM, SORTS, ProviderFilter
from services.models import Concern, Location, Provider, Service, SupportType
from services.profiles import Profile, profile_load
from services.search import suggest_spelling

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
            "form": ProviderFilter().form,
            "radius_choices": RADIUS_CHOICES,
            "radius": RADIUS_DEFAULT_KM,
        },
    )


def find(request):
    """Results of a search; every criterion is a GET parameter, so a search is a link."""
    base = Provider.objects.published()
    query = request.GET.copy()
    filterset = ProviderFilter(query, queryset=base)
    criteria = filterset.criteria
    index = facet_index.current_index()
    result_list = matching.results(index, criteria, base)
    corrected_from = ""
    if not result_list.count() and criteria.data.get("q"):
        suggestion = suggest_spelling(criteria.data["q"])
        if suggestion:
            corrected_from = criteria.data["q"]
            query["q"] = suggestion
            filterset = ProviderFilter(query, queryset=base)
            criteria = filterset.criteria
            result_list = matching.results(index, criteria, base)
    found = result_list.found

    paginator = Paginator(result_list, RESULTS_PER_PAGE)
    if len(set(request.GET.getlist("page"))) > 1:
        page_number, page_error = 1, "More than one page number came, so here is the first page."
    else:
        page_number, page_error = _page_number(request.GET.get("page"), paginator.num_pages)
    page = paginator.page(page_number)
    results.annotate_cards(page.object_list, criteria, timezone.localdate())

    def count(relaxed) -> int:
        # The same words, so their matches are reused: no query per suggestion.
        return matching.count(index, relaxed, matching.narrowing(index, relaxed, base, words=found))

    place_label = criteria.place.label if criteria.place else ""
    counts = facet_counts(criteria, base, index=index, found=found)
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "radius_choices": sorted({*RADIUS_CHOICES, criteria.radius_km}),
        "radius": criteria.radius_km,
        "page": page,
        "paginator": paginator,
        "criteria": criteria,
        "sort": criteria.sort(),
        "sorts": [(value, label) for value, label in SORTS if _sort_applies(value, criteria)],
        "summary": results.summary(paginator.count, criteria, place_label),
        "chips": results.chips(criteria, query, place_label),
        "filter_groups": results.filter_groups(filterset, counts),
        "flag_options": results.flag_options(filterset, counts),
        "place_choices": filterset.form.place_choices,
        "corrected_from": corrected_from,
        "page_error": page_error,
        "relaxations": results.relaxations(filterset, count, query, place_label)
        if paginator.count == 0
        else [],
    }
    bad_input = bool(filterset.form.errors or page_error)
    return render(request, "services/find.html", context, status=400 if bad_input else 200)


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
    return render(
        request,
        "services/provider_detail.html",
        {
            "provider": profile.provider,
            "profile": profile,
            "canonical_url": request.build_absolute_uri(profile.provider.get_absolute_url()),
            "structured_data": _structured_data(profile, request),
        },
    )


def _structured_data(profile: Profile, request) -> dict:
    """schema.org facts for search engines: only what the page itself shows."""
    provider = profile.provider
    full_address = Location.AddressShown.FULL
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
        address = {
            "@type": "PostalAddress",
            "addressLocality": location.town,
            "addressCountry": location.country,
        }
        if location.address_shown == full_address:
            address.update(streetAddress=location.address_line1, postalCode=location.postcode)
        else:
            address["postalCode"] = location.postcode_district
        addresses.append(address)
    if addresses:
        data["address"] = addresses[0] if len(addresses) == 1 else addresses
    return data


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
