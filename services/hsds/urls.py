"""/api/hsds/: the endpoints of the HSDS 3.0 specification's openapi.json, and this API's own."""

from django.urls import path, re_path

from services.hsds import api

app_name = "hsds"


def detail(prefix: str, view, name: str):
    # Any id reaches the view, so an id that is not a UUID gets the API's JSON 404.
    return re_path(rf"^{prefix}/(?P<id>[\s\S]*)$", view, name=name)


urlpatterns = [
    path("", api.index, name="index"),
    path("openapi.json", api.openapi_document, name="openapi"),
    path("services", api.services, name="services"),
    detail("services", api.service_detail, "service"),
    path("organizations", api.organizations, name="organizations"),
    detail("organizations", api.organization_detail, "organization"),
    path("service_at_locations", api.service_at_locations, name="service_at_locations"),
    detail("service_at_locations", api.service_at_location_detail, "service_at_location"),
    path("taxonomies", api.taxonomies, name="taxonomies"),
    detail("taxonomies", api.taxonomy_detail, "taxonomy"),
    path("taxonomy_terms", api.taxonomy_terms, name="taxonomy_terms"),
    detail("taxonomy_terms", api.taxonomy_term_detail, "taxonomy_term"),
]
