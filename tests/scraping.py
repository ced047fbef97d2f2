"""Reading the operators' endpoint as Prometheus and a health checker would.

:func:`parse` turns the Prometheus text format into :class:`Samples` (with
prometheus-client's own parser, so a malformed exposition fails the test);
:func:`scrape` and :func:`health` fetch ``/metrics`` and ``/healthz``.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

#: (sample name, sorted label pairs) -> value.
Key = tuple[str, tuple[tuple[str, str], ...]]


class Samples(dict[Key, float]):
    """Every sample of one scrape."""

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name`` with exactly ``labels``; fails when there is none."""
        key = (name, tuple(sorted(labels.items())))
        assert key in self, (
            f"no sample {name}{labels}; have {sorted(k for k in self if k[0] == name)}"
        )
        return self[key]

    def names(self) -> set[str]:
        """Every sample name (a counter ``x`` shows as ``x_total``)."""
        return {name for name, _ in self}


def parse(text: str) -> Samples:
    """The samples of a Prometheus text exposition."""
    samples = Samples()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


async def scrape(session: aiohttp.ClientSession, base: str) -> Samples:
    """GET ``base``/metrics: the text format, parsed."""
    async with session.get(f"{base}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return parse(await response.text())


async def health(session: aiohttp.ClientSession, base: str) -> tuple[int, dict[str, Any]]:
    """GET ``base``/healthz: the status and the JSON body."""
    async with session.get(f"{base}/healthz") as response:
        body: dict[str, Any] = await response.json()
        return response.status, body
