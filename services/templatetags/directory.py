"""Template filters for showing listings."""

from decimal import Decimal

from django import template

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
    if low is None or high is None or low == high:
        return f"{money(low if high is None else high, service.currency)} a session"
    return f"{money(low, service.currency)}–{money(high, service.currency)} a session"
