"""Security headers on every response of the hub's web app.

The pages load their scripts and styles from /static only: no inline script or event
handler may run, so a value that slipped into a page unescaped cannot act. No other site may
frame the pages (clickjacking an Approve button), browsers may not guess content types, and
addresses (with their query strings) do not leak to other sites.
"""

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# A year, once a browser has reached the page over HTTPS (never sent over plain HTTP).
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def init_app(app: Flask) -> None:
    app.after_request(_add_headers)


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response
