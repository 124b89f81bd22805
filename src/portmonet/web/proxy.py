"""The real client address behind trusted proxies (a load balancer, a TLS
terminator).

Behind a proxy every request comes from the proxy's address, so sign-in
throttling, the payment agents' allow-lists and the audit trail would all
see one client.  With ``portmonet.trusted_proxy`` (addresses or networks,
space-separated) and ``portmonet.trusted_proxy_count`` (how many proxies,
default 1), a request *from a trusted address* has its client taken from
``X-Forwarded-For``: the *count*-th address from the right (each proxy
appends the address it got the request from).  From any other address
the header is ignored — a client cannot claim another address by sending
one — and so is an entry that is not an IP address.  The proxy's own
address is kept in ``environ["portmonet.proxy_peer"]``.
"""
import ipaddress


def parse_networks(text):
    return tuple(ipaddress.ip_network(item, strict=False) for item in (text or "").split())


def _address(text):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class TrustedProxy:
    """WSGI filter: REMOTE_ADDR becomes the client the trusted proxies saw."""

    def __init__(self, app, networks, count=1):
        if count < 1:
            raise ValueError("portmonet.trusted_proxy_count is at least 1")
        self.app, self.networks, self.count = app, tuple(networks), count

    def __getattr__(self, name):       # app.registry etc., as the wrapped app has them
        return getattr(self.app, name)

    def trusted(self, address):
        return address is not None and any(address in net for net in self.networks)

    def client(self, peer, forwarded):
        """The client address for a request from *peer* with this
        X-Forwarded-For header value, or None to keep *peer*."""
        if not forwarded or not self.trusted(_address(peer)):
            return None
        hops = [h for h in forwarded.split(",") if h.strip()]
        if len(hops) < self.count:
            return None
        client = _address(hops[-self.count])
        return str(client) if client is not None else None

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR", "")
        client = self.client(peer, environ.get("HTTP_X_FORWARDED_FOR", ""))
        if client is not None:
            environ["portmonet.proxy_peer"] = peer
            environ["REMOTE_ADDR"] = client
        return self.app(environ, start_response)


def wrap(app, settings):
    """*app* behind :class:`TrustedProxy` if the settings name trusted proxies."""
    networks = parse_networks(settings.get("portmonet.trusted_proxy", ""))
    if not networks:
        return app
    return TrustedProxy(app, networks, int(settings.get("portmonet.trusted_proxy_count", 1)))
