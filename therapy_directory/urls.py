from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/hsds/", include("services.hsds.urls")),
    path("", include("services.urls")),
]
