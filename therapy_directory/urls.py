from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path
from django.views.decorators.cache import cache_page

from services.sitemaps import SITEMAP_CACHE_SECONDS, SITEMAPS, robots_txt

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/hsds/", include("services.hsds.urls")),
    path(
        "sitemap.xml",
        cache_page(SITEMAP_CACHE_SECONDS)(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap-index",
    ),
    path(
        "sitemap-<section>.xml",
        cache_page(SITEMAP_CACHE_SECONDS)(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
    path("robots.txt", robots_txt, name="robots-txt"),
    path("", include("services.urls")),
]

# Providers' photos, on disk under MEDIA_ROOT: served here only in development (static()
# adds nothing when DEBUG is off); in production the web server or the S3-compatible store
# serves them (README, "Photos").
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# The page for a server error, without the database (404, 400 and 403 are Django's own
# handlers with the site's templates: templates/404.html and the others).
handler500 = "services.error_pages.server_error"
