"""People who cannot pay are pointed to free NHS talking therapies in each UK nation."""

import pytest

pytestmark = pytest.mark.django_db

NATIONS = ["England:", "Scotland:", "Wales:", "Northern Ireland:"]


@pytest.mark.parametrize("params", [{"max_fee": "10"}, {"max_fee": "20"}, {"free": "1"}])
def test_a_low_fee_or_free_shows_the_free_routes(client, params):
    page = client.get("/find/", params).content.decode()
    assert "Free support from the NHS" in page
    for nation in NATIONS:
        assert f"<strong>{nation}</strong>" in page
    assert "refer yourself" in page


@pytest.mark.parametrize("params", [{}, {"max_fee": "21"}, {"max_fee": "60"}, {"q": "grief"}])
def test_otherwise_they_are_not_in_the_way(client, params):
    assert "Free support from the NHS" not in client.get("/find/", params).content.decode()


def test_the_guide_has_them(client):
    page = client.get("/guide/").content.decode()
    assert 'id="free-routes"' in page
    for nation in NATIONS:
        assert f"<strong>{nation}</strong>" in page
