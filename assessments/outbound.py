"""Every HTTP request the server sends goes through here: webhooks, and the calls to the
identity provider (its token, keys and userinfo endpoints).

A URL a partner types must not turn the server against its own network: the host is
resolved once, every address it resolves to is checked (loopback, private, link-local,
cloud metadata, multicast, reserved, unspecified: IPv4, IPv6 and IPv4-mapped IPv6 alike),
and the connection goes to the address that was checked, never to a second resolution
(TLS still names the host, for SNI and the certificate, and so does the Host header).
Redirects are not followed: the answer's status is the outcome. Each attempt has a total
deadline, not only a per-read timeout, so a receiver that drips its answer cannot hold a
worker. An operator who does run a receiver on an internal network lists its networks in
OUTBOUND_ALLOWED_NETWORKS (CIDRs).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# Names that mean this machine or a cloud's metadata service, whatever DNS says today.
BLOCKED_NAMES = ("localhost", "metadata.google.internal", "metadata.goog", "instance-data")
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(Exception):
    """The URL may not be fetched; the message says why, in words for the person."""


class HostNotFound(OutboundRefused):
    """No address for the host (today: it may be set up later)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


# The most of an answer's body that is read (the identity provider's keys and tokens are a
# few kilobytes): a larger answer is refused rather than held in memory.
MAX_ANSWER_BYTES = 1 << 20


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    body: bytes = b""
    content_type: str = ""

    def json(self):
        return json.loads(self.body)


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.OUTBOUND_ALLOWED_NETWORKS]


def refused_reason(address: Address) -> str | None:
    """Why the server may not connect to this address (None: it may)."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    if any(address in network for network in _allowed_networks()):
        return None
    for test, words in (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "this server itself (loopback)"),
        ("is_link_local", "a link-local or cloud metadata address"),
        ("is_private", "a private network"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(address, test):
            return words
    if not address.is_global:
        return "an address that is not on the public internet"
    return None


def _resolve(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as missing:
        raise HostNotFound(f"The host {host} could not be found.") from missing
    # The scope of a link-local IPv6 address ("fe80::1%eth0") is no part of the check.
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos))


def check(url: str) -> Target:
    """The URL's target, resolved once and checked; OutboundRefused says why not."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as bad:
        raise OutboundRefused("That is not a valid URL.") from bad
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused("Give an http:// or https:// URL with a host.")
    host = parts.hostname.rstrip(".").lower()
    named = host in BLOCKED_NAMES or host.endswith((".localhost", ".internal"))
    try:
        addresses = _resolve(host, port)
    except HostNotFound as missing:
        if named:
            raise OutboundRefused(
                f"The server does not send to an internal name ({host})."
            ) from missing
        raise
    for address in addresses:
        reason = refused_reason(address)
        if (
            reason is None
            and named
            and not any(address in network for network in _allowed_networks())
        ):
            reason = "an internal name"
        if reason is not None:
            raise OutboundRefused(
                f"The server does not send to {reason} ({host} is {address}). "
                "Use your system's public address."
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, str(addresses[0]))


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        conn = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    # Connect to the checked address; TLS and the Host header still name the host.
    def connect_to_checked(address, timeout=timeout, source_address=None):
        return socket.create_connection((target.address, address[1]), timeout, source_address)

    conn._create_connection = connect_to_checked
    return conn


def post(url: str, body: bytes, headers: dict[str, str], deadline: float) -> Answer:
    """POST once, within `deadline` seconds in all; the answer's status (3xx included:
    redirects are not followed). OutboundRefused for a refused target; OSError (a
    timeout included) when the receiver cannot be reached in time."""
    return request("POST", url, body=body, headers=headers, deadline=deadline)


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    deadline: float,
    read_body: bool = False,
) -> Answer:
    """One request, within `deadline` seconds in all, its body read too when asked (at
    most MAX_ANSWER_BYTES); refused and failed as post() is."""
    target = check(url)
    conn = _connection(target, deadline)
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(deadline, cut_off)
    timer.daemon = True
    timer.start()
    try:
        conn.request(method, target.path, body=body, headers=headers or {})
        answer = conn.getresponse()
        content = answer.read(MAX_ANSWER_BYTES + 1) if read_body else b""
        # Cut off mid-answer, http.client takes the end of the stream for its end.
        if expired.is_set():
            raise TimeoutError(f"No answer within {deadline:g} s.")
        if len(content) > MAX_ANSWER_BYTES:
            raise OSError(f"An answer larger than {MAX_ANSWER_BYTES:,} bytes.")
        return Answer(answer.status, answer.reason, content, answer.getheader("Content-Type") or "")
    except (OSError, http.client.HTTPException) as failed:
        if expired.is_set():
            raise TimeoutError(f"No answer within {deadline:g} s.") from failed
        if isinstance(failed, OSError):
            raise
        raise OSError(f"Not an HTTP answer: {failed}") from failed
    finally:
        timer.cancel()
        conn.close()
