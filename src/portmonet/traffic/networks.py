"""Static networks held by Internet services (a business customer's /29).

A network is kept on the service (``InternetService.networks``) and in the
catalog's ``networks`` index; it may not overlap another service's
network or static address.
"""
import ipaddress

from ..catalog import normalize


class NetworkError(ValueError):
    pass


def _service(root, login):
    service = root.catalog.logins.get(login)
    if service is None:
        raise NetworkError(f"no Internet service with the login {login!r}")
    return service


def add_network(root, login, prefix):
    service = _service(root, login)
    (text,) = normalize.ipv4_networks([prefix])
    network = ipaddress.IPv4Network(text)
    for other, holder in root.catalog.networks.tree.items():
        if holder is not service and ipaddress.IPv4Network(other).overlaps(network):
            raise NetworkError(f"{text} overlaps {other} of {holder.login}")
    first, last = int(network.network_address), int(network.broadcast_address)
    for address in root.catalog.ips.tree.keys(first, last):
        holder = root.catalog.ips.get(address)
        if holder is not service:
            raise NetworkError(f"{text} holds {normalize.ipv4_text(address)} "
                               f"of {holder.login}")
    service.update(networks=service.networks + (text,))


def remove_network(root, login, prefix):
    service = _service(root, login)
    (text,) = normalize.ipv4_networks([prefix])
    if text not in service.networks:
        raise NetworkError(f"{login} does not hold {text}")
    service.update(networks=tuple(n for n in service.networks if n != text))
