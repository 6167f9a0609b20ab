"""/sitemap.xml (an index of sections) and /robots.txt, so search engines find the public pages."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from services.models import Concern, Provider, SupportType


class ProviderSitemap(Sitemap):
    """Published profiles only, in pages of 10,000 (a page of 50,000 takes seconds to write)."""

    changefreq = "weekly"
    priority = 0.8
    limit = 10_000

    def items(self):
        return Provider.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, provider):
        return provider.updated_at

    def get_latest_lastmod(self):
        # One aggregate, instead of Django's default of reading every item.
        return Provider.objects.published().aggregate(latest=Max("updated_at"))["latest"]


class SupportTypeSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.6

    def items(self):
        return SupportType.objects.only("slug").order_by("position", "name")

    def location(self, support_type):
        return reverse("services:support_type_detail", kwargs={"slug": support_type.slug})


class ConcernSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.6

    def items(self):
        return Concern.objects.only("slug").order_by("name")

    def location(self, concern):
        return reverse("services:concern_detail", kwargs={"slug": concern.slug})


class PageSitemap(Sitemap):
    changefreq = "monthly"
    priority = 1.0

    def items(self):
        return ["services:home", "services:guide"]

    def location(self, name):
        return reverse(name)


# A page of 10,000 profiles takes about 2 s to write at 100,000 listings; crawlers can
# wait an hour for a new one.
SITEMAP_CACHE_SECONDS = 3600

SITEMAPS = {
    "pages": PageSitemap,
    "support": SupportTypeSitemap,
    "concerns": ConcernSitemap,
    "providers": ProviderSitemap,
}

# Results and comparisons are endless combinations of parameters, and the API is for
# machines: crawlers reach every listing through the sitemap and the explanation pages.
ROBOTS_TXT = """User-agent: *
Disallow: /admin/
Disallow: /find/
Disallow: /compare/
Disallow: /api/
Disallow: /my-listing/

Sitemap: {sitemap}
"""


@require_safe
@cache_control(public=True, max_age=86400)
def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap-index"))
    return HttpResponse(
        ROBOTS_TXT.format(sitemap=sitemap), content_type="text/plain; charset=utf-8"
    )
