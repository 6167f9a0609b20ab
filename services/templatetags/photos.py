"""The profile's photo, at the size services/photos.py makes it."""

from django import template
from django.utils.html import format_html

from services.photos import PROFILE_HEIGHT, PROFILE_WIDTH

register = template.Library()


@register.simple_tag
def profile_photo(provider) -> str:
    """The profile's <img>, or nothing: its size set, so the header keeps its space while it
    loads."""
    if not provider.photo_profile:
        return ""
    return format_html(
        '<img class="profile-photo" src="{}" width="{}" height="{}" alt="{}"'
        ' loading="lazy" decoding="async">',
        provider.photo_profile.url,
        PROFILE_WIDTH,
        PROFILE_HEIGHT,
        provider.photo_alt,
    )
