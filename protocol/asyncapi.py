"""The AsyncAPI 3 document and JSON Schemas, generated from the protocol's Structs.

`python -m protocol asyncapi > docs/asyncapi.yaml` rewrites the committed document; a test
fails when it is out of date, so the document can never drift from the code.
"""

from dataclasses import dataclass
from typing import Any

import msgspec

from protocol import messages, returns
from protocol.envelope import MAX_PAYLOAD_BYTES
from protocol.events import EVENT_TYPES

REF = "#/components/schemas/{name}"


@dataclass(frozen=True)
class Channel:
    name: str
    address: str
    payload: str  # a schema name, or "event" for the station event envelopes
    action: str  # from the hub's side: "receive" or "send"
    retain: bool
    description: str


CHANNELS = (
    Channel("stationEvents", "wh/v1/{site}/station/{station}/events", "event", "receive", False,
            "Every journaled station event, QoS 1, in seq order per (station, epoch); re-sent "
            "from applied + 1 until the hub's applied covers it. Consumers dedupe on "
            "(station, epoch, seq)."),
    Channel("stationStatus", "wh/v1/{site}/station/{station}/status", "StationStatus", "receive", True,
            "The station's state; its last will sets state offline. An offline message whose "
            "conn is below the last online one is stale."),
    Channel("applied", "wh/v1/{site}/station/{station}/applied", "Applied", "send", True,
            "Cumulative ack: every event of `epoch` up to `seq` is in the ledger."),
    Channel("resync", "wh/v1/{site}/station/{station}/cmd/resync", "Resync", "send", False,
            "The hub saw a gap: send again from `from`."),
    Channel("command", "wh/v1/{site}/station/{station}/cmd/{name}", "Command", "send", False,
            "identify (blink and beep), reprint (the last label), mode (args.mode)."),
    Channel("countTasks", "wh/v1/{site}/station/{station}/count-tasks/{task}", "CountTask", "send",
            True, "A count task for one station; emptied when done or cancelled."),
    Channel("orders", "wh/v1/{site}/orders/{order}", "Order", "send", True,
            "Sales orders that can be packed; an empty retained payload closes one."),
    Channel("purchaseOrders", "wh/v1/{site}/purchase-orders/{po}", "PurchaseOrder", "send", True,
            "Purchase orders that can be received; emptied when closed."),
    Channel("catalog", "wh/v1/{site}/catalog/{sku}", "Product", "send", True,
            "One product per topic, so a change resends only that product."),
    Channel("hubStatus", "wh/v1/{site}/hub/status", "HubStatus", "send", True,
            "The hub's state; its last will sets state offline."),
    Channel("stock", "wh/v1/{site}/stock/{sku}", "Stock", "send", True,
            "On hand per SKU and location after every change. Never clamped: may be negative."),
    Channel("alerts", "wh/v1/{site}/alerts", "Alert", "send", False,
            "Low or negative stock, count variances, unknown SKUs, stations offline."),
    Channel("movements", "wh/v1/{site}/movements", "AppliedMovement", "send", False,
            "Every balance change in ledger order; dedupe on ledger_seq (at least once)."),
    Channel("returnable", "wh/v1/{site}/returnable/{id}", "Returnable", "send", True,
            "What may come back against a shipped order (id = order) or an RMA (id = RMA "
            "number); emptied when nothing more may come back."),
    Channel("returns", "wh/v1/{site}/returns", "AppliedReturn", "send", False,
            "Every customer return as booked, with its value, for the systems that refund; "
            "dedupe on event_id (at least once)."),
)  # fmt: skip


def _event_message(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": f"{name} event",
        "summary": (EVENT_TYPES[name].__doc__ or "").strip().splitlines()[0]
        if EVENT_TYPES[name].__doc__
        else name,
        "payload": {
            "type": "object",
            "additionalProperties": False,
            "required": ["v", "station", "epoch", "seq", "ts", "type", "data"],
            "properties": {
                "v": {"const": 1},
                "station": {"type": "string", "pattern": "^[a-z0-9-]{1,64}$"},
                "epoch": {
                    "type": "string",
                    "pattern": "^[a-z0-9-]{1,64}$",
                    "description": "The journal's incarnation; a new journal starts seq at 1.",
                },
                "seq": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "1, 2, 3... with no gaps within an epoch.",
                },
                "ts": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Station wall clock, UTC. A Pi has no RTC: order by seq.",
                },
                "type": {"const": name},
                "data": {"$ref": REF.format(name=EVENT_TYPES[name].__name__)},
            },
        },  # fmt: skip
    }


def _first_line(text: str | None) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


def _schema_types() -> list[type]:
    names = {c.payload for c in CHANNELS if c.payload != "event"}
    return [*EVENT_TYPES.values(), *(_message_type(n) for n in sorted(names))]


def _message_type(name: str) -> type:
    return getattr(messages, name, None) or getattr(returns, name)


def document() -> dict[str, Any]:
    _, schemas = msgspec.json.schema_components(_schema_types(), ref_template=REF)
    component_messages: dict[str, Any] = {name: _event_message(name) for name in EVENT_TYPES}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for channel in CHANNELS:
        params = [part[1:-1] for part in channel.address.split("/") if part.startswith("{")]
        if channel.payload == "event":
            refs = {name: {"$ref": f"#/components/messages/{name}"} for name in EVENT_TYPES}
        else:
            component_messages[channel.payload] = {
                "name": channel.payload,
                "payload": {"$ref": REF.format(name=channel.payload)},
            }
            refs = {channel.payload: {"$ref": f"#/components/messages/{channel.payload}"}}
        channels[channel.name] = {
            "address": channel.address,
            "description": channel.description,
            "parameters": {p: {"description": _PARAMS.get(p, p)} for p in params},
            "messages": refs,
        }
        operations[f"{channel.action}{channel.name[0].upper()}{channel.name[1:]}"] = {
            "action": channel.action,
            "channel": {"$ref": f"#/channels/{channel.name}"},
            "bindings": {"mqtt": {"qos": 1, "retain": channel.retain, "bindingVersion": "0.2.0"}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Warehouse stations and hub",
            "version": "1.0.0",
            "description": (
                "MQTT contract between scan stations, the hub and other systems. Operations "
                "are seen from the hub. Every payload is UTF-8 JSON; station events are at "
                f"most {MAX_PAYLOAD_BYTES} bytes. See docs/protocol.md."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "site": {
                "host": "hub.local:1883",
                "protocol": "mqtt",
                "protocolVersion": "5.0",
                "description": "Mosquitto on the hub: username/password per client, ACLs.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": component_messages, "schemas": schemas},
    }


_PARAMS = {
    "site": "Site id, [a-z0-9-]",
    "station": "Station id, [a-z0-9-]; equals the station's broker username",
    "name": "Command name",
    "task": "Count task id",
    "order": "Order number",
    "po": "Purchase order number",
    "sku": "SKU",
}


def render() -> str:
    import yaml

    return yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)
