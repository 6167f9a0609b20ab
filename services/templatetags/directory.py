"""Template filters for showing listings."""

import json
from decimal import Decimal

from django import template
from django.template import engines
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from services import cards, fixed_urls
from services.search.filters import typed_values

register = template.Library()

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


@register.filter
def money(amount: Decimal | None, currency: str = "GBP") -> str:
    """£45, £42.50, or "45 CHF" for a currency without a symbol here."""
    if amount is None:
        return ""
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


@register.simple_tag
def fee_range(service) -> str:
    """A service's cost per session in words: "Free", "£40", "£40–£60", "Fee not stated"."""
    if service.is_free:
        return "Free"
    low, high = service.fee_min, service.fee_max
    if low is None and high is None:
        return "Fee not stated"
    if low is None or high is None:
        low = high = low if high is None else high
    return session_fee(low, high, service.currency)


def session_fee(low: Decimal, high: Decimal, currency: str) -> str:
    """“£40–£60 a session”, or “£40 a session” when the two are the same."""
    if low == high:
        return f"{money(low, currency)} a session"
    return f"{money(low, currency)}–{money(high, currency)} a session"


@register.simple_tag
def card_fees(card: dict) -> str:
    """The fees line of a result card, from the stored card."""
    parts = []
    currency = card.get("currency", "GBP")
    low, high = card.get("fee_min"), card.get("fee_max")
    if low is not None:
        parts.append(session_fee(Decimal(low), Decimal(high), currency))
    if card.get("only_free"):
        parts = ["Free"]
    elif card.get("free"):
        parts.append("some free")
    if card.get("sliding_scale"):
        parts.append("sliding scale")
    if card.get("insurance"):
        parts.append("insurance")
    return " · ".join(parts) if parts else "Fees not stated"


@register.simple_tag
def fixed_url(name: str) -> str:
    """What {% url name %} gives for an address that takes no arguments, reversed once a
    process (services/fixed_urls.py): the site's frame shows two on every page."""
    return fixed_urls.fixed_url(name)


@register.simple_tag(takes_context=True)
def search_bar(context) -> str:
    """The what + where fields, from the Jinja2 partial the results page uses too."""
    partial = engines["jinja2"].get_template("services/_search_bar.html")
    form = context["form"]
    return mark_safe(
        partial.render(
            {
                "form": form,
                "typed": typed_values(form),
                "radius_choices": context["radius_choices"],
                "radius": context["radius"],
            }
        )
    )


@register.simple_tag
def save_button(provider, saved: bool) -> str:
    """The shortlist toggle for one listing (it submits the page's #shortlist-form)."""
    return mark_safe(cards.save_button(provider.slug, provider.name, saved))


@register.simple_tag
def result_cards(providers) -> str:
    """The cards of providers annotated by services.search.results.annotate_cards()."""
    return cards.result_cards(providers)


@register.simple_tag
def filter_groups(groups) -> str:
    """The list filters, each a folding group of checkboxes with their counts."""
    return cards.filter_groups(groups)


@register.simple_tag
def filter_options(name: str | None, options) -> str:
    """The checkboxes of a list filter (by its parameter), or of the yes/no filters (None)."""
    return cards.filter_options(name, options)


@register.filter
def field_label(form, name: str) -> str:
    """The label of a form field by name, for error summaries."""
    field = form.fields.get(name)
    return (
        str(field.label)
        if field is not None and field.label
        else name.replace("_", " ").capitalize()
    )


_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def json_ld(data: dict, nonce: str = "") -> str:
    """A schema.org block; escaped like json_script, so no text can close the script element.

    It carries the response's CSP nonce (request.csp_nonce), as every inline script must.
    """
    text = json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)
    # str() first: django-csp's lazy nonce is falsy until it is made.
    nonce = str(nonce) if nonce is not None else ""
    if nonce:
        return format_html(
            '<script type="application/ld+json" nonce="{}">{}</script>', nonce, mark_safe(text)
        )
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))
