"""The results page of a search: what it shows, worked out from the request."""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from services import free_routes
from services.fixed_urls import fixed_url
from services.models import Provider
from services.search import everyday, listing_index, matching, results
from services.search.facets import facet_counts
from services.search.filters import (
    RADIUS_CHOICES,
    SORTS,
    criteria_of,
    field_labels,
    search_form,
    typed_values,
)
from services.search.text import known_words_only, suggest_spelling
from services.shortlist import kept_search, shortlist_status

RESULTS_PER_PAGE = 20


@dataclass
class ResultsPage:
    context: dict  # for templates/jinja2/services/find_body.html
    title: str
    status: int  # 400 when part of the search could not be used


def results_page(request, saved: set[int]) -> ResultsPage:
    """The search in the request's query, its page of results, the counts of every
    option, and the ways to widen it; `saved` are the listings on the shortlist."""
    # Made only if the database is asked (a phrase; SQLite): building even this one
    # filter costs about 0.3 ms, on every results page.
    base = SimpleLazyObject(Provider.objects.published)
    query = request.GET.copy()
    # First: seeing that the listings changed also forgets the places they named.
    index = listing_index.current_index()
    form, criteria, found, corrected_from = _searched(index, query, base)
    paginator = Paginator(found, RESULTS_PER_PAGE)
    if len(set(request.GET.getlist("page"))) > 1:
        page_number, page_error = 1, "More than one page number came, so here is the first page."
    else:
        page_number, page_error = _page_number(request.GET.get("page"), paginator.num_pages)
    page = paginator.page(page_number)
    results.annotate_cards(
        page.object_list,
        criteria,
        timezone.localdate(),
        results.services_meeting(page.object_list, criteria),
    )

    def count(relaxed) -> int:
        # The same words and, mostly, the same place: their matches are reused, so no
        # query and no distances per suggestion.
        return matching.count(index, relaxed, base, earlier=found.parts)

    place_label = criteria.place.label if criteria.place else ""
    # As typed, before any correction of its spelling.
    words = corrected_from or criteria.data.get("q") or ""
    counts = facet_counts(criteria, base, selection=found.selection)
    summary = results.summary(paginator.count, criteria, place_label)
    chips = results.chips(criteria, query, place_label)
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
        "order_line": results.order_line(criteria),
        "sorts": [(value, label) for value, label in SORTS if _sort_applies(value, criteria)],
        "summary": summary,
        "chips": chips,
        "filters_active": sum(chip.filter for chip in chips),
        "groups": results.filter_groups(form, counts),
        "flag_options": results.flag_options(form, counts),
        "place_choices": form.place_choices,
        "corrected_from": corrected_from,
        "page_error": page_error,
        "relaxations": results.relaxations(form, criteria, count, query, place_label)
        if paginator.count == 0
        else [],
        "closest_concerns": results.closest_concerns(criteria, count, query)
        if paginator.count == 0
        else [],
        "urgent": everyday.suggests_risk(words),
        "free_routes": free_routes.FREE_ROUTES if free_routes.wanted(criteria.data) else (),
        "understood": everyday.understood(criteria.data["q"]) if criteria.data.get("q") else [],
        "saved": saved,
        "shortlist_status": shortlist_status(len(saved)),
        "shortlist_url": fixed_url("services:shortlist") + kept_search(request.GET),
        "profile_search": kept_search(request.GET),
        "next_url": request.get_full_path(),
    }
    title = summary if criteria.data else "Find support"
    return ResultsPage(context, title, 400 if form.errors or page_error else 200)


def _searched(index, query, base):
    """The form, its criteria and results; words that find nothing are tried once more
    as the nearest spelling the listings use (`query` then holds them)."""
    form = search_form(query)
    criteria = criteria_of(form)
    found = matching.results(index, criteria, base)
    if not found.count() and criteria.data.get("q"):
        # The nearest spelling, else the words any listing uses ("play therapy for my son").
        suggestion = suggest_spelling(criteria.data["q"]) or known_words_only(criteria.data["q"])
        if suggestion:
            corrected_from = criteria.data["q"]
            query["q"] = suggestion
            form = search_form(query)
            criteria = criteria_of(form)
            return form, criteria, matching.results(index, criteria, base), corrected_from
    return form, criteria, found, ""


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
