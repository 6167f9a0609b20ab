"""Values every page shows: the site's name and the crisis line."""

from django.conf import settings


def site(request):
    return {"site_name": settings.SITE_NAME, "crisis_line": settings.CRISIS_LINE}
