"""Benchmark of the public mediator directory (run by `make bench`, never by CI): pages of 20 over a roster
of 10,000 mediators, through the test client, with and without filters. The constant query count itself is
asserted in tests/frontend/test_roster_pages.py with a few rows."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from mediation.choices import Sector
from tests.bench.bench_recommendation import MEDIATORS, populate_roster, report

pytestmark = pytest.mark.django_db

REQUESTS = 50


@pytest.mark.parametrize(("name", "params"), [
    ("first page, no filter", {}),
    ("page 250, no filter", {"page": 250}),
    ("court + specialty", {"court": "court", "specialty": Sector.LABOUR}),
    ("court + specialty + language + region", {"court": "court", "specialty": Sector.FAMILY, "language": "yue",
                                                "region": "11"}),
    ("organisation sector", {"sector": Sector.FINANCE}),
])
def test_bench_directory_page(world, client, name, params):
    populate_roster(world, past_cases=0)
    params = {key: (world.court.pk if value == "court" else value) for key, value in params.items()}
    url = reverse("roster_directory")
    assert client.get(url, params).status_code == 200  # warm up
    samples = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url, params)
        samples.append(time.perf_counter() - start)
    assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url, params)
    report(f"directory over {MEDIATORS:,}: {name} ({response.context['page'].paginator.count:,} listed)",
           samples, len(queries))
