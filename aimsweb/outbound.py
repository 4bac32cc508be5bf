"""Where AIMS may send a request: one URL rule, one address rule, and a requests transport that connects only to
an address it has just checked. The transport rule lives here alone: https to public addresses, and plain http only
to this machine, for a simulator (a connection marked simulator, or a channel posting to the simulator's inbox).

The URL is judged by the parsers that send it (urllib3's and requests'), not by urlsplit, so a URL cannot mean one
host to the check and another to the connection. The address is judged at connection time, after the one DNS
lookup the connection uses, so a name cannot resolve to a public address when checked and a private one when used
(DNS rebinding); TLS still verifies the certificate and SNI against the host name.
"""

import ipaddress
import re
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NameResolutionError, NewConnectionError
from urllib3.util import parse_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance-metadata services answer with credentials to anyone on the machine: never a destination, whatever
# the address rule says about their ranges.
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.internal",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "168.63.129.16")
)
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
# Where a connection marked simulator may point: this machine, spelled plainly.
SIMULATOR_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")  # what a browser or libc would read as part of an IPv4 address
DEFAULT_PORTS = {"http": 80, "https": 443}
PLAIN_HTTP_REFUSED = "plain http is allowed only to the local simulator: a real endpoint must use https"


class OutboundRefused(ValueError):
    """A request AIMS must not send; the message names the origin only, never a path or query."""


@dataclass(frozen=True)
class OutboundPolicy:
    """What one kind of target may reach: a public https address, or the local simulator.

    `simulator` is for a connection marked simulator: its host is this machine (SIMULATOR_HOSTS, every address it
    resolves to loopback), over http or https, and nothing else. `loopback_origins` ("http://127.0.0.1:8765") is for
    notification channels, so a channel can reach the local simulator's inbox but not PostgreSQL or Redis.
    """

    simulator: bool = False
    loopback_origins: frozenset[tuple[str, str, int]] = field(default_factory=frozenset)

    @classmethod
    def for_channels(cls) -> "OutboundPolicy":
        return cls(
            loopback_origins=frozenset(_origin_key(origin) for origin in settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS)
        )

    @classmethod
    def for_connection(cls, *, is_simulator: bool) -> "OutboundPolicy":
        return cls(simulator=is_simulator)

    def allows_loopback(self, scheme: str, host: str, port: int) -> bool:
        return self.simulator or (scheme, host, port) in self.loopback_origins


def _origin_key(origin: str) -> tuple[str, str, int]:
    parts = parse_url(origin)
    scheme = (parts.scheme or "").lower()
    return scheme, (parts.host or "").lower().strip("[]"), parts.port or DEFAULT_PORTS.get(scheme, 0)


def origin_of(url: str) -> str:
    """scheme://host[:port] as the sending library reads it: all of a URL that may be shown or logged."""
    try:
        parts = parse_url(url)
    except LocationParseError:
        return "an unparseable URL"
    return f"{parts.scheme}://{parts.host}" + (f":{parts.port}" if parts.port else "")


def address_problem(address: IPAddress, *, loopback_allowed: bool = False, loopback_only: bool = False) -> str:
    """Why a connection to `address` is refused ("" when it may go ahead): only public unicast addresses, and
    loopback when allowed; only loopback for a simulator (`loopback_only`). IPv6 forms that carry an IPv4 address
    (mapped, compatible, 6to4, NAT64) are judged by the IPv4 address they reach."""
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if (loopback_allowed or loopback_only) and address.is_loopback:
        return ""
    if loopback_only:
        return f"{address} is not this machine, where a simulator runs"
    target = _embedded_ipv4(address) or address
    if target in METADATA_ADDRESSES:
        return f"{address} reaches the cloud metadata address {target}"
    if target.is_loopback:
        return f"{address} is this machine (loopback)"
    if (
        not target.is_global
        or target.is_multicast
        or target.is_private
        or target.is_reserved
        or target.is_link_local
        or target.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.teredo is not None)
    ):
        return f"{address} is not a public address"
    return ""


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def url_problem(url: str, policy: OutboundPolicy) -> str:
    """Why AIMS must not send to `url` ("" when it may): judged with urllib3's and requests' own parsers. Refuses
    user:password@, backslashes, whitespace and control characters, any host whose spelling is not canonical
    (percent-encoding, IPv4 in decimal, octal or hex, a trailing dot, non-ASCII), cloud metadata names and literal
    addresses that the address rule refuses; plain http only to a loopback origin the policy allows. Names are
    resolved and checked when the request is sent (see `guarded_session`). The one answer to "may this URL be used
    for this kind of target": connections and channels ask it, and so does each request of a simulator connection
    that carries its token over plain http (monitors.clients.adf)."""
    if not url:
        return "the URL is empty"
    if any(char <= " " or char == "\x7f" for char in url):
        return "the URL contains whitespace or control characters"
    if "\\" in url:
        return "the URL contains a backslash"
    if not url.isascii():
        return "the URL contains non-ASCII characters (write an international host name in its xn-- form)"
    try:
        parsed = parse_url(url)
        prepared = requests.PreparedRequest()
        prepared.prepare_url(url, None)
        sent = parse_url(prepared.url or "")
        split = urlsplit(url)
        split_host = split.hostname
    except (LocationParseError, requests.RequestException, ValueError):
        return "the URL cannot be parsed"
    scheme = (parsed.scheme or "").lower()
    if scheme not in DEFAULT_PORTS:
        return "the URL must start with https://"
    if parsed.auth or split.username is not None or "@" in (split.netloc or ""):
        return "the URL must not carry a user name or password (user:password@)"
    host = (parsed.host or "").lower()
    if not host:
        return "the URL has no host"
    # The check, the connection and any other reader must agree on one host.
    readings = {host.strip("[]"), (sent.host or "").lower().strip("[]"), (split_host or "").lower()}
    if len(readings) != 1 or sent.port != parsed.port:
        return "the URL is ambiguous: its parsers disagree on the host"
    port = parsed.port or DEFAULT_PORTS[scheme]
    bare = host.strip("[]")
    if policy.simulator and bare not in SIMULATOR_HOSTS:
        return "a simulator connection must point at 127.0.0.1 or localhost"
    loopback_ok = policy.allows_loopback(scheme, bare, port)
    if scheme == "http" and not loopback_ok:
        return PLAIN_HTTP_REFUSED
    problem = _host_spelling_problem(host, bare)
    if problem:
        return problem
    if bare in METADATA_HOSTS:
        return f"{bare} is a cloud metadata service"
    address = _literal_address(bare)
    if address is not None:
        problem = address_problem(address, loopback_allowed=loopback_ok)
        if problem:
            return problem
    elif (bare in LOOPBACK_NAMES or bare.endswith(".localhost")) and not loopback_ok:
        return f"{bare} is this machine (loopback)"
    if scheme == "http" and not (bare in LOOPBACK_NAMES or (address and address.is_loopback)):
        return PLAIN_HTTP_REFUSED
    return ""


def _host_spelling_problem(host: str, bare: str) -> str:
    if "%" in host:
        return "the host must not be percent-encoded or carry an IPv6 zone"
    if host.startswith("["):
        address = _literal_address(bare)
        if not isinstance(address, ipaddress.IPv6Address) or str(address) != bare:
            return "write the IPv6 address in its canonical form"
        return ""
    if host.endswith("."):
        return "the host must not end with a dot"
    labels = host.split(".")
    if NUMERIC_LABEL.match(labels[-1]):
        address = _literal_address(host)
        if not isinstance(address, ipaddress.IPv4Address) or str(address) != host:
            return "write an IPv4 address as four decimal numbers (no decimal, octal or hex forms)"
        return ""
    if len(host) > 253 or not all(HOST_LABEL.match(label) for label in labels):
        return "the host is not a valid host name"
    return ""


def check_url(url: str, policy: OutboundPolicy) -> None:
    """Raise OutboundRefused naming the origin when `url_problem` refuses it."""
    problem = url_problem(url, policy)
    if problem:
        raise OutboundRefused(f"refused: {origin_of(url)}: {problem}")


def resolve_checked(host: str, port: int, *, scheme: str, policy: OutboundPolicy) -> list[tuple]:
    """getaddrinfo results for host:port, every one checked; raises OutboundRefused if any address is refused
    (a name with one bad address among good ones is refused whole: which one a retry gets is not ours to choose)."""
    bare = host.strip("[]").lower().rstrip(".")
    if bare in METADATA_HOSTS:
        raise OutboundRefused(f"refused: {bare} is a cloud metadata service")
    results = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM)
    loopback_ok = policy.allows_loopback(scheme, bare, port)
    for family, _, _, _, sockaddr in results:
        host_address = sockaddr[0]
        if family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(host_address, str):
            raise OutboundRefused(f"refused: {bare} resolves to a non-IP address")
        address = ipaddress.ip_address(host_address.split("%")[0])
        problem = address_problem(address, loopback_allowed=loopback_ok, loopback_only=policy.simulator)
        if problem:
            raise OutboundRefused(f"refused: {scheme}://{bare}:{port}: {problem}")
    return results


def host_problem(url: str, policy: OutboundPolicy) -> str:
    """What resolving the URL's host now says ("" when every address is allowed, or when it does not resolve: the
    request itself decides then). For save-time checks and for clients that cannot be pinned."""
    try:
        parsed = parse_url(url)
        scheme = (parsed.scheme or "").lower()
        resolve_checked(parsed.host or "", parsed.port or DEFAULT_PORTS.get(scheme, 443), scheme=scheme, policy=policy)
    except OutboundRefused as exc:
        return str(exc).removeprefix("refused: ")
    except (OSError, LocationParseError, UnicodeError):
        return ""
    return ""


class _PinnedConnectionMixin:
    """Resolve once, check every address, connect to a checked one: no second lookup between check and use."""

    policy: OutboundPolicy
    scheme: str

    def _new_conn(self) -> socket.socket:
        host, port = self._dns_host, self.port  # type: ignore[attr-defined]
        try:
            results = resolve_checked(host, port, scheme=self.scheme, policy=self.policy)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[attr-defined,arg-type]
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in results:
            sock = socket.socket(family, kind, proto)
            try:
                for option in self.socket_options or ():  # type: ignore[attr-defined]
                    sock.setsockopt(*option)
                sock.settimeout(self.timeout)  # type: ignore[attr-defined]
                if self.source_address:  # type: ignore[attr-defined]
                    sock.bind(self.source_address)  # type: ignore[attr-defined]
                sock.connect(sockaddr)
                return sock
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeoutError(self, f"Connection to {host} timed out") from exc
            except OSError as exc:
                sock.close()
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")  # type: ignore[arg-type]


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections go only where `policy` allows, pinned to the address checked."""

    def __init__(self, policy: OutboundPolicy, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        http = type(
            "GuardedHTTPConnection", (_PinnedConnectionMixin, HTTPConnection), {"policy": self.policy, "scheme": "http"}
        )
        https = type(
            "GuardedHTTPSConnection",
            (_PinnedConnectionMixin, HTTPSConnection),
            {"policy": self.policy, "scheme": "https"},
        )
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        raise OutboundRefused("refused: outbound requests do not go through a proxy")


def guard_session(session: requests.Session, policy: OutboundPolicy, **adapter_options: Any) -> requests.Session:
    """Mount the guarded adapter on both schemes of `session`, and stop it reading proxies and .netrc from the
    environment (a proxy would be the address checked instead of the target)."""
    adapter = GuardedAdapter(policy, **adapter_options)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.trust_env = False
    return session


def guarded_session(policy: OutboundPolicy) -> requests.Session:
    return guard_session(requests.Session(), policy)
