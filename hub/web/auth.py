"""Who may do what: API clients by Bearer token (from the hub config)."""

import hmac
from functools import wraps

from flask import current_app, jsonify, request


def require_token(view):
    """The request must carry `Authorization: Bearer TOKEN` with a configured token."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        valid = current_app.config["API_TOKENS"]
        if scheme.lower() != "bearer" or not any(
            hmac.compare_digest(token.encode(), t.encode()) for t in valid
        ):
            response = jsonify({"error": "a valid 'Authorization: Bearer TOKEN' header is required"})
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="warehouse-hub"'
            return response
        return view(*args, **kwargs)

    return wrapper
