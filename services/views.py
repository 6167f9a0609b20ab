"""Public pages."""

from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render

from services.models import Concern, Location, Provider, Qualification, Service, SupportType


def home(request):
    published = Q(services__provider__status=Provider.Status.PUBLISHED)
    support_types = SupportType.objects.annotate(
        provider_count=Count("services__provider", filter=published, distinct=True)
    )
    concerns = Concern.objects.filter(is_common=True)
    recently_verified = (
        Provider.objects.published()
        .exclude(last_verified=None)
        .order_by("-last_verified", "name")[:12]
    )
    return render(
        request,
        "services/home.html",
        {
            "support_types": support_types,
            "common_concerns": concerns,
            "recently_verified": recently_verified,
        },
    )


def provider_detail(request, slug):
    services = Service.objects.select_related("support_type").prefetch_related(
        "approaches", "concerns", "age_groups", "locations"
    )
    queryset = Provider.objects.select_related("gender").prefetch_related(
        "languages",
        "communities",
        Prefetch("qualifications", queryset=Qualification.objects.order_by("kind", "-year")),
        Prefetch("locations", queryset=Location.objects.all()),
        Prefetch("services", queryset=services),
    )
    provider = get_object_or_404(queryset, slug=slug)
    # Staff may preview a listing before it is public; for everyone else it does not exist.
    if provider.status != Provider.Status.PUBLISHED and not request.user.is_staff:
        raise Http404("No published listing has this address.")
    concerns = sorted(
        {concern for service in provider.services.all() for concern in service.concerns.all()},
        key=lambda concern: concern.name,
    )
    return render(
        request, "services/provider_detail.html", {"provider": provider, "concerns": concerns}
    )


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
