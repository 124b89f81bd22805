"""Security headers on every response."""
from pyramid.events import NewResponse

# No script at all: pages are plain HTML forms; plots are inline SVG.
CSP = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'; img-src 'self' data:")

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def add_headers(event):
    response = event.response
    for name, value in HEADERS.items():
        if name == "Cache-Control" and event.request.path.startswith("/static/"):
            continue
        response.headers.setdefault(name, value)


def includeme(config):
    config.add_subscriber(add_headers, NewResponse)
