from django.urls import path

from services.upkeep import views

# Included under "my-listing/" in services/urls.py, in the "services" namespace: the links
# in the emails to providers.
urlpatterns = [
    path(
        "availability/<str:token>/<slug:answer>/",
        views.availability_answer,
        name="availability_answer",
    ),
    path("enquiry/<str:token>/<slug:answer>/", views.enquiry_answer, name="enquiry_answer"),
]
