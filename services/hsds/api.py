"""The read-only HSDS 3.0 API (/api/hsds/): the specification's endpoints, paging and filters.

Every answer carries an ETag and Last-Modified taken from ListingsVersion (one query),
so a client that asks again with If-None-Match gets a 304 before anything else is read.
List pages make a fixed number of queries whatever per_page is.
"""

import hashlib
import json
import uuid
from functools import wraps
from pathlib import Path

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from services.hsds import objects, openapi, params, queries
from services.hsds import vocabulary as vocab
from services.hsds.params import BadParameter, Paging
from services.models import ListingsVersion, Provider, Service

HSDS_VERSION = "3.0"
CACHE_SECONDS = 60
PROBLEM_JSON = "application/problem+json"

# What the answers look like changes with this code, so the ETags do too.
_CODE_REVISION = hashlib.sha256(
    b"".join(path.read_bytes() for path in sorted(Path(__file__).parent.glob("*.py")))
).hexdigest()[:16]


def _json(data, status: int = 200, content_type: str = "application/json") -> HttpResponse:
    return HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=content_type,
    )


def problem(status: int, title: str, detail: str, **extra) -> HttpResponse:
    """An error as RFC 9457 problem details."""
    return _json(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra},
        status=status,
        content_type=PROBLEM_JSON,
    )


def not_found(what: str) -> HttpResponse:
    return problem(404, "Not Found", f"There is no published {what} with that id.")


def hsds_endpoint(view):
    """GET/HEAD only; ETag and Last-Modified from the listings' version; bad parameters are a 400.

    Exempt from CSRF checks, which only guard writes: any other method is a plain 405.
    """

    @csrf_exempt
    @require_safe
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        number, changed_at = ListingsVersion.objects.filter(pk=1).values_list(
            "number", "changed_at"
        ).first() or (0, None)
        etag = '"{}"'.format(
            hashlib.sha256(
                f"{_CODE_REVISION}|{number}|{request.get_full_path()}".encode()
            ).hexdigest()[:32]
        )
        last_modified = int(changed_at.timestamp()) if changed_at else None
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            try:
                response = view(request, *args, **kwargs)
            except BadParameter as error:
                response = problem(400, "Bad Request", error.message, parameter=error.parameter)
        if response.status_code in (200, 304):
            response.headers["ETag"] = etag
            if last_modified is not None:
                response.headers["Last-Modified"] = http_date(last_modified)
            patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
        return response

    return wrapper


def _page(request, queryset, render, *, select=()):
    """One page of a queryset in the paging envelope: a count, then one read of the page."""
    paging = Paging.from_query(request.GET)
    params.output_format(request.GET)
    total = queryset.count()
    rows = []
    if paging.offset < total:
        rows = list(queryset.order_by("pk")[paging.offset : paging.offset + paging.per_page])
    return _json(paging.envelope(total, [render(row) for row in rows]))


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


# --------------------------------------------------------------------------- endpoints


@hsds_endpoint
def index(request):
    return _json(
        {
            "version": HSDS_VERSION,
            "openapi_url": request.build_absolute_uri(reverse("hsds:openapi")),
        }
    )


@csrf_exempt
@require_safe
def openapi_document(request):
    return JsonResponse(openapi.document(request.build_absolute_uri(reverse("hsds:index"))))


@hsds_endpoint
def services(request):
    query = request.GET
    full, minimal = params.boolean(query, "full"), params.boolean(query, "minimal")
    filtered = queries.services_filtered(**_listing_filters(query))
    if full:
        return _page(request, objects.with_full_service_data(filtered), _full_service)
    if minimal:
        return _page(request, filtered.select_related("support_type", "provider"), _minimal_service)
    return _page(
        request,
        filtered.select_related("support_type", "provider").prefetch_related("age_groups"),
        lambda s: objects.service_basic(s, s.provider),
    )


def _listing_filters(query) -> dict:
    return {
        "search": params.text(query, "search"),
        "term_id": params.an_id(query, "taxonomy_term_id"),
        "taxonomy_id": params.an_id(query, "taxonomy_id"),
        "organization_id": params.an_id(query, "organization_id"),
        "modified_after": params.moment(query, "modified_after"),
    }


def _full_service(service: Service) -> dict:
    return objects.service_full(service, service.provider)


def _minimal_service(service: Service) -> dict:
    return {
        "id": str(service.uuid),
        "name": str(service),
        "status": objects.STATUS[service.provider.status],
        "last_modified": service.provider.updated_at.isoformat(),
    }


@hsds_endpoint
def service_detail(request, id):
    service_id = _uuid(id)
    service = (
        objects.with_full_service_data(queries.published_services()).filter(uuid=service_id).first()
        if service_id
        else None
    )
    if service is None:
        return not_found("service")
    return _json(objects.service_full(service, service.provider))


@hsds_endpoint
def organizations(request):
    query = request.GET
    full_service = params.boolean(query, "full_service")
    full = params.boolean(query, "full") or full_service
    providers = Provider.objects.published()
    search = params.text(query, "search")
    if search:
        providers = providers.filter(pk__in=queries.matching_providers(search))
    if not full:
        return _page(request, providers, objects.organization_basic)
    loaded = objects.with_full_provider_data(providers, with_services=full_service)
    return _page(
        request,
        loaded,
        lambda p: objects.organization_full(p, services="full" if full_service else ""),
    )


@hsds_endpoint
def organization_detail(request, id):
    full_service = params.boolean(request.GET, "full_service")
    provider_id = _uuid(id)
    provider = (
        objects.with_full_provider_data(Provider.objects.published(), with_services=True)
        .filter(uuid=provider_id)
        .first()
        if provider_id
        else None
    )
    if provider is None:
        return not_found("organization")
    data = objects.organization_full(provider, services="full" if full_service else "")
    if not full_service:
        # The specification: "a service array that contains simple information".
        data["services"] = [
            objects.service_basic(s, provider, with_organization=False)
            for s in provider.services.all()
        ]
    return _json(data)


@hsds_endpoint
def service_at_locations(request):
    query = request.GET
    full = params.boolean(query, "full")
    filters = _listing_filters(query)
    sals = queries.published_service_at_locations()
    if any(value not in (None, "") for value in filters.values()):
        sals = sals.filter(service__in=queries.services_filtered(**filters).values("pk"))
    where = params.Proximity.from_query(query)
    if where is not None and where.metres is None:
        # A postcode alone: the services in its district.
        sals = sals.filter(location__postcode__istartswith=f"{where.outward} ")
    elif where is not None and where.latitude is None:
        sals = sals.none()
    elif where is not None:
        sals = queries.near(
            sals, latitude=where.latitude, longitude=where.longitude, metres=where.metres
        )
    if full:
        return _page(request, _full_sal_queryset(sals), objects.service_at_location_full)
    return _page(
        request,
        sals.select_related(
            "service__support_type", "service__provider", "location"
        ).prefetch_related("service__age_groups"),
        objects.service_at_location_basic,
    )


def _full_sal_queryset(sals):
    return sals.select_related(
        "location", "service__support_type", "service__provider"
    ).prefetch_related(
        "service__approaches",
        "service__concerns",
        "service__age_groups",
        "service__languages",
        "service__provider__languages",
        "service__provider__communities",
        "service__provider__qualifications",
        "service__provider__locations",
    )


@hsds_endpoint
def service_at_location_detail(request, id):
    sal_id = _uuid(id)
    sal = (
        _full_sal_queryset(queries.published_service_at_locations()).filter(uuid=sal_id).first()
        if sal_id
        else None
    )
    if sal is None:
        return not_found("service_at_location")
    return _json(objects.service_at_location_full(sal))


@hsds_endpoint
def taxonomies(request):
    paging = Paging.from_query(request.GET)
    params.output_format(request.GET)
    search = params.text(request.GET, "search").casefold()
    found = [
        v.as_hsds()
        for v in vocab.VOCABULARIES
        if not search or search in f"{v.name} {v.description}".casefold()
    ]
    return _json(
        paging.envelope(len(found), found[paging.offset : paging.offset + paging.per_page])
    )


@hsds_endpoint
def taxonomy_detail(request, id):
    vocabulary = vocab.vocabulary_by_id().get(str(_uuid(id)))
    if vocabulary is None:
        return problem(404, "Not Found", "There is no taxonomy with that id.")
    return _json(vocabulary.as_hsds())


@hsds_endpoint
def taxonomy_terms(request):
    query = request.GET
    paging = Paging.from_query(query)
    params.output_format(query)
    search = params.text(query, "search").casefold()
    taxonomy_id = params.an_id(query, "taxonomy_id")
    params.boolean(query, "top_only")  # every term is at the top: none has a parent
    parent_id = params.an_id(query, "parent_id")
    refs = [] if parent_id is not None else vocab.all_terms()
    if taxonomy_id is not None:
        refs = [r for r in refs if r.vocabulary.id == str(taxonomy_id)]
    if search:
        refs = [r for r in refs if search in f"{r.term.name} {r.term.description}".casefold()]
    page = refs[paging.offset : paging.offset + paging.per_page]
    return _json(
        paging.envelope(
            len(refs), [vocab.term_hsds(r.vocabulary, r.term, detail=True) for r in page]
        )
    )


@hsds_endpoint
def taxonomy_term_detail(request, id):
    term_id = _uuid(id)
    ref = vocab.find_term(term_id) if term_id else None
    if ref is None:
        return problem(404, "Not Found", "There is no taxonomy term with that id.")
    return _json(vocab.term_hsds(ref.vocabulary, ref.term, detail=True))
