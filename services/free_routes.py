"""Free support from each UK nation's health service, for people who cannot pay a fee:
shown on the results page when the fee asked for is low, and in the guide."""

from dataclasses import dataclass

# A fee ceiling at or below this (or "free" ticked) suggests that paying is hard.
LOW_FEE = 20


@dataclass(frozen=True)
class FreeRoute:
    nation: str
    text: str
    link_text: str
    url: str


FREE_ROUTES = (
    FreeRoute(
        "England",
        "NHS Talking Therapies are free for anxiety, depression and related worries. You can"
        " refer yourself, without seeing your GP first.",
        "Find your local NHS Talking Therapies service",
        "https://www.nhs.uk/service-search/mental-health/find-an-nhs-talking-therapies-service",
    ),
    FreeRoute(
        "Scotland",
        "Talking therapies come through your GP practice, and NHS 24 on 111 has a mental"
        " health hub. Breathing Space (0800 83 85 87) listens free on weekday evenings and"
        " at weekends.",
        "Mental health help on NHS inform",
        "https://www.nhsinform.scot/illnesses-and-conditions/mental-health",
    ),
    FreeRoute(
        "Wales",
        "Your GP can refer you to the local primary mental health support service, and NHS"
        " 111 Wales (press 2) answers mental health calls at any hour.",
        "Mental health services on NHS 111 Wales",
        "https://111.wales.nhs.uk/livewell/mentalhealth/",
    ),
    FreeRoute(
        "Northern Ireland",
        "Your GP can refer you to talking therapies in your health and social care trust."
        " Lifeline (0808 808 8000) is free and answers at any hour.",
        "Mental health support on nidirect",
        "https://www.nidirect.gov.uk/articles/mental-health-services",
    ),
)


def wanted(data: dict) -> bool:
    """Whether a search's criteria suggest that paying is hard: "free" ticked, or a
    fee ceiling of LOW_FEE or less."""
    max_fee = data.get("max_fee")
    return bool(data.get("free")) or max_fee is not None and max_fee <= LOW_FEE
