"""The bare hub: paho -> one writer thread -> batched INSERT ... ON CONFLICT DO NOTHING (the
dedupe) in one transaction, the same durability as the hub (SQLite: WAL + FULL; PostgreSQL:
the cluster's fsync and synchronous_commit) and the same ack rule (PUBACK after the
commit), and an `applied` message per station after each commit. Nothing else: the
ceiling of the hub's ingest on either backend.

    python bench_bare_hub.py PORT DB_PATH_OR_POSTGRESQL_URL USER PASSWORD SITE
"""

import queue
import socket
import sqlite3
import sys
import threading
from collections.abc import Callable

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class Key(msgspec.Struct):
    station: str
    epoch: str
    seq: int


def main(port: int, target: str, user: str, password: str, site: str) -> None:
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
    threading.Thread(target=writer, args=(client, incoming, target, site), daemon=True).start()
    sys.stdin.read()  # until the benchmark closes our stdin
    client.disconnect()
    client.loop_stop()


def on_connect(client: mqtt.Client, site: str) -> None:
    # paho leaves Nagle on: small acks would wait for the peer's delayed ACK (25-45 ms).
    client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.subscribe(f"wh/v1/{site}/station/+/events", 1)


Rows = list[tuple[str, str, int, bytes]]
INSERT = "INSERT INTO events (station, epoch, seq, payload) VALUES ({0}, {0}, {0}, {0}) " \
    "ON CONFLICT DO NOTHING"  # fmt: skip


def sqlite_store(db_path: str) -> Callable[[Rows], None]:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS events (station TEXT, epoch TEXT, seq INTEGER, "
                 "payload BLOB, UNIQUE (station, epoch, seq))")  # fmt: skip

    def store(rows: Rows) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT.format("?"), rows)
        conn.execute("COMMIT")

    return store


def postgres_store(url: str) -> Callable[[Rows], None]:
    import psycopg  # only here: the SQLite bench needs no PostgreSQL driver loaded

    conn = psycopg.connect(url)  # the events table is made by the bench (bench_postgres)

    def store(rows: Rows) -> None:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(INSERT.format("%s"), rows)

    return store


def writer(client: mqtt.Client, incoming: queue.SimpleQueue, target: str, site: str) -> None:
    store = postgres_store(target) if target.startswith("postgresql://") else sqlite_store(target)
    decode = msgspec.json.Decoder(Key).decode
    while True:
        batch = [incoming.get()]
        while len(batch) < 1000:
            try:
                batch.append(incoming.get_nowait())
            except queue.Empty:
                break
        keys = [decode(m.payload) for m in batch]
        store([(k.station, k.epoch, k.seq, m.payload) for k, m in zip(keys, batch, strict=True)])
        for message in batch:
            client.ack(message.mid, message.qos)
        latest = {k.station: k for k in keys}
        for key in latest.values():
            payload = b'{"epoch":"%s","seq":%d}' % (key.epoch.encode(), key.seq)
            client.publish(f"wh/v1/{site}/station/{key.station}/applied", payload, qos=1)


if __name__ == "__main__":
    main(int(sys.argv[1]), *sys.argv[2:6])
