"""The hub: ingest, perpetual ledger, inventory domain, web page and API."""
