"""The station journal (SQLite outbox) and the MQTT uplink that drains it."""
