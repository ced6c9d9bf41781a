"""The contract between stations, the hub and other systems: topics, envelope, payloads.

This is the only package both `station` and `hub` import. Everything that crosses
the broker is defined here as a msgspec Struct, so that one definition gives the
encoder, the validating decoder and the JSON Schema (see `protocol.schema`).
"""

from protocol.envelope import (
    EVENT_TYPES,
    Envelope,
    InvalidMessage,
    decode_event,
    encode_event,
)

__all__ = ["EVENT_TYPES", "Envelope", "InvalidMessage", "decode_event", "encode_event"]
