from django.urls import path

from services.my_listing import views

# Included under "my-listing/" in services/urls.py, in the "services" namespace.
urlpatterns = [
    path("", views.my_listing, name="my_listing"),
    path("sign-in/<str:token>/", views.my_listing_sign_in, name="my_listing_sign_in"),
    path("sign-out/", views.my_listing_sign_out, name="my_listing_sign_out"),
    path("<uuid:listing>/", views.my_listing_edit, name="my_listing_edit"),
    path("<uuid:listing>/photo/", views.my_listing_photo, name="my_listing_photo"),
    path("<uuid:listing>/publish/", views.my_listing_publish, name="my_listing_publish"),
    path(
        "<uuid:listing>/changes/<int:change>/withdraw/",
        views.my_listing_withdraw,
        name="my_listing_withdraw",
    ),
    path("<uuid:listing>/services/new/", views.my_listing_service, name="my_listing_service_new"),
    path(
        "<uuid:listing>/services/<uuid:service>/",
        views.my_listing_service,
        name="my_listing_service",
    ),
    path(
        "<uuid:listing>/services/<uuid:service>/remove/",
        views.my_listing_service_remove,
        name="my_listing_service_remove",
    ),
    path("<uuid:listing>/places/new/", views.my_listing_place, name="my_listing_place_new"),
    path("<uuid:listing>/places/<uuid:place>/", views.my_listing_place, name="my_listing_place"),
    path(
        "<uuid:listing>/places/<uuid:place>/remove/",
        views.my_listing_place_remove,
        name="my_listing_place_remove",
    ),
    path(
        "<uuid:listing>/qualifications/new/",
        views.my_listing_qualification,
        name="my_listing_qualification_new",
    ),
    path(
        "<uuid:listing>/qualifications/<int:qualification>/",
        views.my_listing_qualification,
        name="my_listing_qualification",
    ),
    path(
        "<uuid:listing>/qualifications/<int:qualification>/remove/",
        views.my_listing_qualification_remove,
        name="my_listing_qualification_remove",
    ),
]
