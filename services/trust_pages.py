"""The pages a trustworthy service owes its users: who runs it and how listings are checked,
the privacy notice, the accessibility statement, and how to reach staff. Their figures (how
long things are kept, who to write to) come from the settings that govern them."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET


def _context() -> dict:
    return {
        "operator": settings.OPERATOR_NAME,
        "contact_email": settings.CONTACT_EMAIL,
        "keep": {
            "enquiries": settings.KEEP_ENQUIRIES_DAYS,
            "reports": settings.KEEP_REPORTS_DAYS,
            "recommendations": settings.KEEP_RECOMMENDATIONS_DAYS,
            "sessions": settings.SESSION_COOKIE_AGE // (24 * 3600),
            "rate_hours": settings.FORM_RATE_WINDOW_SECONDS // 3600,
            "sign_in_minutes": settings.SESAME_MAX_AGE // 60,
        },
        # How replies to messages are counted and chased (services/upkeep/replies.py).
        "replies": {
            "days": settings.REPLY_FIGURES_DAYS,
            "from": settings.REPLY_FIGURES_FROM,
            "working_days": settings.REPLY_WORKING_DAYS,
            "pause_after": settings.UNANSWERED_IN_A_ROW_PAUSE,
        },
    }


def _page(name: str):
    @require_GET
    def view(request):
        return render(request, f"services/{name}.html", _context())

    view.__name__ = name
    return view


about = _page("about")
privacy = _page("privacy")
accessibility = _page("accessibility")
contact = _page("contact")
