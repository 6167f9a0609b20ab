"""The site's URLs mounted under /elsewhere/, for tests/test_fixed_urls.py."""

from django.urls import include, path

urlpatterns = [path("elsewhere/", include("services.urls"))]
