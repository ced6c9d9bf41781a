"""The AsyncAPI 3 documents and JSON Schemas, generated from the protocol's Structs and the
channel table in protocol/topics.py.

One document per broker role, each written from that client's side (its `send` is what it
publishes), so a client generated from it needs no flipping: docs/asyncapi.yaml is the
hub's (every channel), docs/asyncapi-station.yaml, -integration.yaml and -reader.yaml the
others'. `python -m protocol asyncapi [ROLE] > FILE` rewrites one; a test fails when a
committed document is out of date, so the documents can never drift from the code.
"""

import inspect
from typing import Any

import msgspec

from protocol import events, messages, returns
from protocol.envelope import MAX_PAYLOAD_BYTES
from protocol.events import EVENT_TYPES
from protocol.topics import CHANNELS, ROLES, ROOT, Channel, Role

REF = "#/components/schemas/{name}"
# 1.1: stock ledger_seq and ts, alert id, ts, state and kinds; 1.2: last_read; 1.3: shipment
# weight_mismatches, stock quarantined, the central hub (centre/resend, centre/link, the
# central role, movements' value_micros); 1.4: transfers between sites (centre/transfers,
# transfers, order kind and to_site, alert transfer_late) and routed orders (centre/orders,
# centre/order-state); 1.5: alert site_gap, a received transfer report's movements, a
# transfer's kit parts (kit, per_kit); 1.6: a transfer's receipt movement names its transfer,
# and a site answers centre/resend with its routed orders' states and alerts of the same stretch
VERSION = "1.6.0"
KEEPALIVE_S = 30  # the stations' and the hub's [mqtt] keepalive default
HUB_SESSION_EXPIRY_S = 7 * 24 * 3600  # the hub's [mqtt] session_expiry_s default
CLEARED = "Cleared"  # the message of an empty retained payload

DOCUMENTS: dict[Role, str] = {
    "hub": "docs/asyncapi.yaml",
    "station": "docs/asyncapi-station.yaml",
    "integration": "docs/asyncapi-integration.yaml",
    "reader": "docs/asyncapi-reader.yaml",
    "central": "docs/asyncapi-central.yaml",
}
LINK_STATE = "LinkState"  # Mosquitto's bridge notification: not JSON of ours, one digit

_PARAMS = {
    "site": "Site id, [a-z0-9-]",
    "station": "Station id, [a-z0-9-]; equals the station's broker username",
    "name": "Command name",
    "task": "Count task id",
    "order": "Order number",
    "po": "Purchase order number",
    "sku": "SKU",
    "id": "Order number or RMA number",
    "transfer": "Transfer number (T-n), made by the central hub",
}


def actions(role: Role, channel: Channel) -> list[str]:
    """What `role` does on `channel`, from its own side: send, receive, both or neither."""
    found = []
    if channel.sender == role:
        found.append("send")
    if role == "reader" or role in channel.readers:
        found.append("receive")
    return found


def address(channel: Channel) -> str:
    return f"{ROOT}/{{site}}/{channel.path}"


def _event_message(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "title": f"{name} event",
        "summary": _first_line(EVENT_TYPES[name].__doc__) or name,
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


def _link_state_message() -> dict[str, Any]:
    return {
        "name": LINK_STATE,
        "title": "Bridge state (Mosquitto's notification)",
        "summary": "1: the site's bridge to the centre is connected; 0: it is not.",
        "description": (
            "Written by Mosquitto itself (`notifications true`, `notification_topic`): the "
            "one byte 1 when the bridge connects, and 0, its last will on the central "
            "broker, when the connection is lost."
        ),
        "contentType": "text/plain",
        "payload": {"type": "string", "enum": ["0", "1"]},
    }


def _cleared_message() -> dict[str, Any]:
    return {
        "name": CLEARED,
        "title": "Cleared (empty retained payload)",
        "summary": "Zero bytes, retained: the topic's retained message is deleted.",
        "description": (
            "MQTT deletes a retained message when one with an empty payload is published "
            "on its topic. The hub does that when an order, purchase order, count task or "
            "product is closed or removed: drop it from your cache. An empty payload is "
            "not JSON; its schema here is the empty string."
        ),
        "contentType": "application/octet-stream",
        "payload": {"type": "string", "maxLength": 0},
    }


def _first_line(text: str | None) -> str:
    return text.strip().splitlines()[0] if text and text.strip() else ""


def _schema_types() -> list[type]:
    names = {c.payload for c in CHANNELS if c.payload not in ("event", LINK_STATE)}
    return [*EVENT_TYPES.values(), *(_message_type(n) for n in sorted(names))]


def _message_type(name: str) -> type:
    return getattr(messages, name, None) or getattr(returns, name)


def _struct_descriptions() -> dict[str, str]:
    """Each payload type's docstring, cleaned here: how msgspec turns a docstring into a
    schema's description (indented or dedented) has changed between its releases."""
    found = {}
    for module in (events, messages, returns):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, msgspec.Struct) and value.__doc__:
                found[value.__name__] = inspect.cleandoc(value.__doc__)
    return found


def _channel_messages(channel: Channel) -> dict[str, Any]:
    names = list(EVENT_TYPES) if channel.payload == "event" else [channel.payload]
    if channel.clearable:
        names.append(CLEARED)
    return {name: {"$ref": f"#/components/messages/{name}"} for name in names}


def _component_messages() -> dict[str, Any]:
    found: dict[str, Any] = {name: _event_message(name) for name in EVENT_TYPES}
    found[LINK_STATE] = _link_state_message()
    for channel in CHANNELS:
        if channel.payload not in ("event", LINK_STATE):
            found[channel.payload] = {
                "name": channel.payload,
                "summary": _first_line(_message_type(channel.payload).__doc__),
                "payload": {"$ref": REF.format(name=channel.payload)},
            }
    found[CLEARED] = _cleared_message()
    return found


def _servers(role: Role) -> dict[str, Any]:
    binding = {"mqtt": {**_session(role), "bindingVersion": "0.2.0"}}
    security = [{"$ref": "#/components/securitySchemes/userPassword"}]
    return {
        "site": {
            "host": "hub.local:1883",
            "protocol": "mqtt",
            "protocolVersion": "5.0",
            "description": "Mosquitto on the hub (scripts/install-hub without --tls).",
            "security": security,
            "bindings": binding,
        },
        "siteTls": {
            "host": "hub.local:8883",
            "protocol": "secure-mqtt",
            "protocolVersion": "5.0",
            "description": (
                "The same broker over TLS (scripts/install-hub --tls): the server's "
                "certificate is signed by the site CA that scripts/make-ca made; trust that "
                "CA. Clients still log in with user and password."
            ),
            "security": security,
            "bindings": binding,
        },
    }


def _session(role: Role) -> dict[str, Any]:
    """The MQTT session a client of `role` keeps (server binding fields)."""
    if role == "station":
        return {
            "clientId": "the station id (the broker uses the username as client id)",
            "cleanSession": True,
            "keepAlive": KEEPALIVE_S,
            "lastWill": {
                "topic": f"{ROOT}/{{site}}/station/{{station}}/status",
                "qos": 1,
                "retain": True,
                "message": '{"state": "offline", "conn": n}',
            },
        }
    if role in ("hub", "central"):
        return {
            "clientId": f"{role} (the username)",
            "cleanSession": False,
            "sessionExpiryInterval": HUB_SESSION_EXPIRY_S,
            "keepAlive": KEEPALIVE_S,
            "lastWill": {
                "topic": f"{ROOT}/{{site}}/hub/status",
                "qos": 1,
                "retain": True,
                "message": '{"state": "offline"}',
            },
        }
    return {
        "clientId": "your username (the broker sets it; a second connection takes over)",
        "cleanSession": False,
        "sessionExpiryInterval": HUB_SESSION_EXPIRY_S,
        "keepAlive": KEEPALIVE_S,
    }


def document(role: Role = "hub") -> dict[str, Any]:
    """The AsyncAPI document of one broker role, its operations from that client's side."""
    _, schemas = msgspec.json.schema_components(_schema_types(), ref_template=REF)
    for name, description in _struct_descriptions().items():
        if name in schemas:
            schemas[name]["description"] = description
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for channel in CHANNELS:
        doing = actions(role, channel)
        if not doing:
            continue
        params = [part[1:-1] for part in address(channel).split("/") if part.startswith("{")]
        channels[channel.name] = {
            "address": address(channel),
            "description": channel.description,
            "parameters": {p: {"description": _PARAMS[p]} for p in params},
            "messages": _channel_messages(channel),
        }
        for action in doing:
            operations[f"{action}{channel.name[0].upper()}{channel.name[1:]}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel.name}"},
                "bindings": {
                    "mqtt": {"qos": 1, "retain": channel.retain, "bindingVersion": "0.2.0"}
                },
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": f"Warehouse stations and hub: the {role} role",
            "version": VERSION,
            "description": (
                f"MQTT contract between scan stations, the hub and other systems, as a "
                f"client with the broker role `{role}` uses it: `send` is what it "
                f"publishes, `receive` what it subscribes to. Every payload is UTF-8 JSON "
                f"(an empty retained payload clears a topic); station events are at most "
                f"{MAX_PAYLOAD_BYTES} bytes. See docs/protocol.md."
            ),
        },
        "defaultContentType": "application/json",
        "servers": _servers(role),
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": _component_messages(),
            "schemas": schemas,
            "securitySchemes": {
                "userPassword": {
                    "type": "userPassword",
                    "description": (
                        "One broker account per client (scripts/provision-station, "
                        "scripts/broker-config add-user); its role sets the rights (see "
                        "docs/protocol.md). Anonymous clients are refused."
                    ),
                }
            },
        },
    }


def render(role: Role = "hub") -> str:
    import yaml

    return yaml.safe_dump(document(role), sort_keys=False, allow_unicode=True, width=100)


__all__ = ["DOCUMENTS", "ROLES", "actions", "address", "document", "render"]
