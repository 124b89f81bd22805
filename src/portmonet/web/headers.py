"""Security headers on every response."""
from pyramid.events import NewResponse

# No script at all: pages are plain HTML forms; plots are inline SVG.
CSP = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'; img-src 'self' data:")

# The OWASP Secure Headers Project's list (checked 2026-12): what to send,
# and X-XSS-Protection "0" (the legacy filter is itself an XSS risk).
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Permissions-Policy": ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
                           "interest-cohort=()"),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-XSS-Protection": "0",
}


def headers_for(settings):
    """The headers of every response; with ``portmonet.hsts_max_age``
    (seconds; production.ini sets a year) also Strict-Transport-Security,
    which only a site served over HTTPS may send."""
    out = dict(HEADERS)
    max_age = int((settings or {}).get("portmonet.hsts_max_age", 0) or 0)
    if max_age > 0:
        out["Strict-Transport-Security"] = f"max-age={max_age}; includeSubDomains"
    return out


def includeme(config):
    headers = headers_for(config.get_settings())

    def add_headers(event):
        response = event.response
        for name, value in headers.items():
            if name == "Cache-Control" and event.request.path.startswith("/static/"):
                continue
            response.headers.setdefault(name, value)
    config.add_subscriber(add_headers, NewResponse)
