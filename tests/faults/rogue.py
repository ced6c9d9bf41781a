"""A misbehaving publisher that speaks as a station: it re-sends envelopes the station
journaled, duplicated and out of order, as a broken uplink or a replaying broker would."""

import random

from protocol.topics import Topics
from tests.mqtt_client import TestClient


def replay(
    port: int,
    station: str,
    secret: str,
    envelopes: list[bytes],
    rng: random.Random,
    site: str = "test",
) -> int:
    """Publish `envelopes` shuffled, a random third of them twice; returns how many went.

    It logs in as the station itself (the broker ties the client id to the username, so
    the real station must be stopped meanwhile, or one would keep kicking the other off).
    """
    sent = [*envelopes, *rng.sample(envelopes, len(envelopes) // 3)]
    rng.shuffle(sent)
    client = TestClient(port, station, secret)
    try:
        assert not client.refused, client.reason
        for payload in sent:
            client.publish(Topics(site).events(station), payload)
    finally:
        client.close()
    return len(sent)
