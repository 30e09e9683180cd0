"""Outgoing requests cannot be turned inward (finding 3): the webhook form refuses internal
addresses, a delivery resolves once and connects only to the address it checked, follows
no redirect and gives up at a total deadline. Refused addresses are reached only
logically: the socket calls are replaced, and real traffic goes to 127.0.0.1 only, where a
test allows loopback through OUTBOUND_ALLOWED_NETWORKS."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from assessments import outbound
from assessments.notifications import webhooks
from assessments.notifications.models import DeliveryStatus, Webhook, WebhookDelivery
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

INTERNAL_URLS = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8000/",
    "http://localhost:8000/",
    "http://app.localhost/",
    "http://10.0.0.5/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://2130706433/",  # 127.0.0.1 as one number
    "http://0x7f000001/",
]


@pytest.fixture
def no_sockets(monkeypatch):
    """Every connection attempt recorded and refused: nothing leaves the test."""
    attempts: list[tuple] = []

    def refuse(address, *args, **kwargs):
        attempts.append(address)
        raise ConnectionRefusedError("no network in tests")

    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_finding3_the_webhook_form_refuses_internal_addresses(client, url):
    partner = MembershipFactory(role="partner")
    client.force_login(partner.user)
    answer = client.post(reverse("fund_webhooks", args=[partner.fund_id]), {"url": url})
    assert answer.status_code == 200
    # Django's URLField already refuses an address written as one number.
    error = answer.context["form"].errors["url"][0]
    assert error.startswith("The server does not send to") or error == "Enter a valid URL."
    assert not Webhook.objects.exists()
    with pytest.raises(outbound.OutboundRefused, match="The server does not send to"):
        outbound.check(url)


def test_an_operator_may_allow_an_internal_network(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    target = outbound.check("http://10.20.3.4:8080/moat?x=1")
    assert (target.address, target.port, target.path) == ("10.20.3.4", 8080, "/moat?x=1")
    with pytest.raises(outbound.OutboundRefused):
        outbound.check("http://10.21.0.1/")


@pytest.mark.parametrize(
    "address",
    ["::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:0.0.0.0"],
)
def test_ipv4_mapped_addresses_are_judged_as_their_ipv4(address):
    assert outbound.refused_reason(ipaddress.ip_address(address)) is not None


def test_a_delivery_to_an_internal_address_never_connects(no_sockets):
    partner = MembershipFactory(role="partner")
    # Registered before the form checked addresses: the delivery checks again.
    hook = Webhook.objects.create(
        fund=partner.fund, url="http://169.254.169.254/latest/meta-data/", secret="s"
    )
    delivery = WebhookDelivery.objects.create(webhook=hook, payload={"alerts": []})
    assert webhooks.attempt(delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Refused: The server does not send to a link-local")
    assert no_sockets == []


def test_a_delivery_resolves_once_and_connects_to_the_address_it_checked(monkeypatch, no_sockets):
    """A name that answers a public address to the check and loopback the next time
    (DNS rebinding) is connected to at the public address, and resolved once."""
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    partner = MembershipFactory(role="partner")
    hook = Webhook.objects.create(fund=partner.fund, url="https://rebind.example/hook", secret="s")
    delivery = WebhookDelivery.objects.create(webhook=hook, payload={"alerts": []})
    assert webhooks.attempt(delivery.pk) is False
    assert lookups == ["rebind.example"]
    assert no_sockets == [("93.184.216.34", 443)]


class Receiver:
    """A server on 127.0.0.1 whose handler the test chooses."""

    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Quiet(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


def failed_attempt_to(handler, after=lambda: None) -> WebhookDelivery:
    """One delivery attempt to a receiver on loopback that must not count as delivered."""
    receiver = Receiver(handler)
    try:
        partner = MembershipFactory(role="partner")
        hook = Webhook.objects.create(fund=partner.fund, url=receiver.url + "/hook", secret="s")
        delivery = WebhookDelivery.objects.create(webhook=hook, payload={"alerts": []})
        assert webhooks.attempt(delivery.pk) is False
    finally:
        after()
        receiver.close()
    delivery.refresh_from_db()
    return delivery


def test_a_redirect_is_not_followed(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    seen = []

    class Redirecting(Quiet):
        def do_POST(self):
            seen.append(("POST", self.path))
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            seen.append(("GET", self.path))
            self.send_response(200)
            self.end_headers()

    delivery = failed_attempt_to(Redirecting)
    assert seen == [("POST", "/hook")]
    assert delivery.last_status_code == 302 and "302" in delivery.last_error


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_deadline(settings):
    """Finding 3: a header line every so often kept a per-read timeout from ever firing."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    stop = threading.Event()

    class Dripping(Quiet):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for n in range(40):
                if stop.is_set():
                    return
                time.sleep(0.25)  # well under the 1 s read timeout, forty times over
                try:
                    self.wfile.write(f"X-Drip-{n}: 1\r\n".encode())
                    self.wfile.flush()
                except OSError:
                    return
            self.wfile.write(b"Content-Length: 0\r\n\r\n")

    delivery = failed_attempt_to(Dripping, after=stop.set)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error == "No answer within 1 s."


def test_the_delivery_log_resends_and_sends_a_test(
    client, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    bodies = []

    class Recording(Quiet):
        def do_POST(self):
            bodies.append((self.headers, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

    receiver = Receiver(Recording)
    try:
        partner = MembershipFactory(role="partner")
        hook, secret = webhooks.webhook_create(
            actor=partner.user, fund_id=partner.fund_id, url=receiver.url + "/hook"
        )
        failed = WebhookDelivery.objects.create(
            webhook=hook, payload={"type": "alerts", "alerts": [{"id": 1}]}, status="failed"
        )
        client.force_login(partner.user)
        log = reverse("webhook_deliveries", args=[partner.fund_id, hook.pk])
        page = client.get(log).content.decode()
        resend = reverse("webhook_resend", args=[partner.fund_id, hook.pk, failed.pk])
        assert resend in page and "Send test" in page
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(resend).status_code == 302
        with django_capture_on_commit_callbacks(execute=True):
            test = reverse("webhook_send_test", args=[partner.fund_id, hook.pk])
            assert client.post(test).status_code == 302
    finally:
        receiver.close()
    assert [d.status for d in hook.deliveries.order_by("id")] == [
        "failed",
        "delivered",
        "delivered",
    ]
    (resent_headers, resent), (test_headers, test_body) = bodies
    assert b'"alerts":[{"id":1}]' in resent and f'"resent_from":{failed.pk}'.encode() in resent
    assert b'"type":"test"' in test_body
    for headers, body in bodies:
        assert webhooks.verify(
            secret, headers[webhooks.TIMESTAMP_HEADER], body, headers[webhooks.SIGNATURE_HEADER]
        )
