from django.urls import path

from services import views

app_name = "services"

urlpatterns = [
    path("", views.home, name="home"),
    path("providers/<slug:slug>/", views.provider_detail, name="provider_detail"),
    path("healthz", views.healthz, name="healthz"),
]
