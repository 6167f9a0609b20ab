from django.urls import path

from services import guide, views

app_name = "services"

urlpatterns = [
    path("", views.home, name="home"),
    path("find/", views.find, name="find"),
    path("providers/<slug:slug>/", views.provider_detail, name="provider_detail"),
    path("support/<slug:slug>/", views.support_type_detail, name="support_type_detail"),
    path("concerns/<slug:slug>/", views.concern_detail, name="concern_detail"),
    path("guide/", guide.guide, name="guide"),
    path("healthz", views.healthz, name="healthz"),
]
