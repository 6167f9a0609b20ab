from django.urls import include, path

from services import guide, public_forms, trust_pages, views

app_name = "services"

urlpatterns = [
    path("", views.home, name="home"),
    path("find/", views.find, name="find"),
    path("providers/<slug:slug>/", views.provider_detail, name="provider_detail"),
    path("providers/<slug:slug>/contact/", public_forms.provider_contact, name="provider_contact"),
    path(
        "providers/<slug:slug>/contact/sent/",
        public_forms.provider_contact_sent,
        name="provider_contact_sent",
    ),
    path(
        "providers/<slug:slug>/recommend/",
        public_forms.provider_recommend,
        name="provider_recommend",
    ),
    path(
        "providers/<slug:slug>/recommend/thanks/",
        public_forms.provider_recommend_thanks,
        name="provider_recommend_thanks",
    ),
    path("providers/<slug:slug>/report/", public_forms.provider_report, name="provider_report"),
    path(
        "providers/<slug:slug>/report/thanks/",
        public_forms.provider_report_thanks,
        name="provider_report_thanks",
    ),
    path("support/<slug:slug>/", views.support_type_detail, name="support_type_detail"),
    path("concerns/<slug:slug>/", views.concern_detail, name="concern_detail"),
    path("guide/", guide.guide, name="guide"),
    path("shortlist/", views.shortlist, name="shortlist"),
    path("compare/", views.compare, name="compare"),
    path("healthz", views.healthz, name="healthz"),
    path("my-listing/", include("services.my_listing.urls")),
    path("my-listing/", include("services.upkeep.urls")),
    path("about/", trust_pages.about, name="about"),
    path("privacy/", trust_pages.privacy, name="privacy"),
    path("accessibility/", trust_pages.accessibility, name="accessibility"),
    path("contact/", trust_pages.contact, name="contact"),
]
