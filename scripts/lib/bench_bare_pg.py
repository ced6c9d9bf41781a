"""The bare hub on PostgreSQL: paho -> one writer thread -> batched INSERT ... ON CONFLICT
DO NOTHING (the dedupe) in one transaction, a durable commit (the cluster's defaults: fsync
and synchronous_commit on), PUBACK after the commit, and an `applied` message per station
after each commit. Nothing else: the ceiling of the hub's ingest on PostgreSQL.

    python bench_bare_pg.py PORT URL USER PASSWORD SITE
"""

import queue
import socket
import sys
import threading

import msgspec
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion


class Key(msgspec.Struct):
    station: str
    epoch: str
    seq: int


def main(port: int, url: str, user: str, password: str, site: str) -> None:
    incoming: queue.SimpleQueue[mqtt.MQTTMessage] = queue.SimpleQueue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=user, protocol=mqtt.MQTTv5,
                         manual_ack=True)  # fmt: skip
    client.username_pw_set(user, password)
    client.max_inflight_messages_set(100)
    client.on_message = lambda c, u, message: incoming.put(message)
    client.on_subscribe = lambda *args: print("ready", flush=True)
    client.on_connect = lambda c, *args: on_connect(c, site)
    client.connect("127.0.0.1", port)
    client.loop_start()
    threading.Thread(target=writer, args=(client, incoming, url, site), daemon=True).start()
    sys.stdin.read()  # until the benchmark closes our stdin
    client.disconnect()
    client.loop_stop()


def on_connect(client: mqtt.Client, site: str) -> None:
    # paho leaves Nagle on: small acks would wait for the peer's delayed ACK (25-45 ms).
    client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.subscribe(f"wh/v1/{site}/station/+/events", 1)


def writer(client: mqtt.Client, incoming: queue.SimpleQueue, url: str, site: str) -> None:
    conn = psycopg.connect(url)
    decode = msgspec.json.Decoder(Key).decode
    while True:
        batch = [incoming.get()]
        while len(batch) < 1000:
            try:
                batch.append(incoming.get_nowait())
            except queue.Empty:
                break
        keys = [decode(m.payload) for m in batch]
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO events (station, epoch, seq, payload) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                [(k.station, k.epoch, k.seq, m.payload) for k, m in zip(keys, batch, strict=True)],
            )  # fmt: skip
        for message in batch:
            client.ack(message.mid, message.qos)
        latest = {k.station: k for k in keys}
        for key in latest.values():
            payload = b'{"epoch":"%s","seq":%d}' % (key.epoch.encode(), key.seq)
            client.publish(f"wh/v1/{site}/station/{key.station}/applied", payload, qos=1)


if __name__ == "__main__":
    main(int(sys.argv[1]), *sys.argv[2:6])
