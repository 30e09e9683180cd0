"""No input gets a server error: hostile text into every parameter of every URL, per role.

Like the access matrix, the URLs come from the resolver (through its MATRIX, which fails
when a URL has no row), so a new URL is fuzzed without anyone remembering to add it. The
parameter names of each URL are read from its view: the names its module reads from
request.GET / request.POST, and the fields of every form the module uses (Django's own
views: their form_class). Each example sends arbitrary values — control characters, NUL,
bidirectional and zero-width marks, thousands of characters, numbers beyond 64 bits,
dates at the limits of Python's date — as a GET query string or a POST body, and, where
the view takes an upload, as the cells of a CSV file.

The answer must never be 5xx, and a refusal (4xx) must change nothing in the database.
Every example runs in its own transaction (Hypothesis' Django TestCase), so one
example's accepted write cannot change what the next one sees.
"""

from __future__ import annotations

import inspect
import ipaddress
import os
import re
import sys
from datetime import date

from django import forms as django_forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from assessments import forms as app_forms
from assessments import imports, outbound, scoring
from assessments.exports import render as rendering
from assessments.identity import forms as identity_forms
from assessments.models import NOTE_MAX_CHARS
from assessments.notifications import forms as notification_forms
from assessments.notifications.forms import WebhookForm
from tests.factories import EvidenceFactory
from tests.security.security_world import (
    ANON,
    FAST_HASHERS,
    PARTNER,
    ROLES,
    build_world,
    row_counts,
)
from tests.security.test_access_matrix import MATRIX, reverse_row

# A few hundred examples in all by default; FUZZ_EXAMPLES=200 for a deeper run.
EXAMPLES_PER_URL = int(os.environ.get("FUZZ_EXAMPLES", "6"))

# --- the values ---------------------------------------------------------------------------

MARKS = [
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\x0c",
    "\x1b",
    "\x7f",
    "\u0085",
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\u2028",  # line separator
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\ufeff",
    "\r\n",
]
EDGES = [
    "",
    " ",
    "0",
    "-1",
    str(2**63),
    str(2**64 + 1),
    str(-(2**63) - 1),
    "9" * 40,
    "1e308",
    "-1e308",
    "1e-320",
    "nan",
    "inf",
    "-inf",
    date.min.isoformat(),
    date.max.isoformat(),
    "0000-00-00",
    "9999-12-31",
    "1970-01-01",
    "2026-02-30",
]
text_with_marks = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(MARKS)), max_size=8).map(
    "".join
)
values = st.one_of(
    st.sampled_from(EDGES),
    text_with_marks,
    st.text(),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(repr),
    st.dates().map(date.isoformat),
    # Thousands of characters.
    st.tuples(text_with_marks, st.integers(1, 4000)).map(lambda t: (t[0] or "x") * t[1]),
)

# --- the parameter names of each URL ------------------------------------------------------

READ_NAME = re.compile(r"(?:GET|POST)\.(?:get|getlist)\(\s*[\"'](\w+)[\"']")
# A module that reads the map's query string through the parser reads its form's fields.
FORM_ALIASES = {
    "parse_filters": app_forms.MapFilterForm,
    "evidence_form_for": app_forms.EvidenceForm,
}


def _form_fields(form_class) -> set[str]:
    names = set(form_class.base_fields)
    if form_class is app_forms.RubricDraftForm:  # one weight field per factor, added per form
        names |= {f"weight_{f.code}" for f in scoring.FACTORS}
    return names


def parameter_names(url: str) -> list[str]:
    """The names a URL's view reads: from its module's source and the forms it uses."""
    func = get_resolver().resolve(url).func
    view_class = getattr(func, "view_class", None)
    names: set[str] = set()
    if view_class is not None:  # Django's class-based auth views
        form_class = getattr(view_class, "form_class", None)
        if form_class is not None:
            names |= set(form_class.base_fields)
        names |= {"next", "username", "password"}
    else:
        module = sys.modules[inspect.unwrap(func).__module__]
        source = inspect.getsource(module)
        names |= set(READ_NAME.findall(source))
        every_form = {
            **vars(app_forms),
            **vars(identity_forms),
            **vars(notification_forms),
        }
        for attr, value in every_form.items():
            used = attr in FORM_ALIASES or (
                isinstance(value, type) and issubclass(value, django_forms.BaseForm)
            )
            if used and re.search(rf"\b{attr}\b", source):
                names |= _form_fields(FORM_ALIASES.get(attr, value))
    return sorted(names | {"hostile_name"})


def csv_upload(cells: list[str]) -> SimpleUploadedFile:
    """A CSV with every import column, its cells the fuzzed values (quoted as a CSV writes)."""
    import csv
    import io

    columns = imports.REQUIRED_COLUMNS + imports.OPTIONAL_COLUMNS
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    row = [cells[i % len(cells)] if cells else "" for i in range(len(columns))]
    writer.writerow(row)
    return SimpleUploadedFile("fuzz.csv", out.getvalue().encode("utf-8"), "text/csv")


def _is_missing_browser(response) -> bool:
    # Chart exports answer 503 with the install hint when the server has no Chromium.
    return response.status_code == 503 and rendering.INSTALL_HINT.encode() in response.content


@override_settings(PASSWORD_HASHERS=FAST_HASHERS)
class FuzzBase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.world = build_world()

    def send(self, url: str, role: str, method: str, params: dict, htmx: bool = False):
        world = self.world
        client = Client()
        if role != ANON:
            client.force_login(world.users[role])
        headers = {"HX-Request": "true"} if htmx else {}
        before = row_counts()
        response = getattr(client, method)(url, params, headers=headers)
        where = f"{method.upper()} {url} as {role} with {params!r}"
        assert response.status_code < 500 or _is_missing_browser(response), (
            f"{response.status_code} on {where}"
        )
        if 400 <= response.status_code < 500:
            assert row_counts() == before, f"a refusal ({response.status_code}) wrote: {where}"


class FuzzEveryURL(FuzzBase):
    """One generated test per URL name, EXAMPLES_PER_URL examples each."""


def _fuzz(name: str):
    @settings(
        max_examples=EXAMPLES_PER_URL,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def test(self, data):
        role = data.draw(st.sampled_from(ROLES), label="role")
        method = data.draw(st.sampled_from(["get", "post"]), label="method")
        htmx = data.draw(st.booleans(), label="htmx")
        url = reverse_row(name, self.world)
        names = parameter_names(url)
        chosen = data.draw(st.lists(st.sampled_from(names), max_size=6, unique=True))
        params = {n: data.draw(values, label=n) for n in chosen}
        if "file" in params:
            params["file"] = csv_upload(data.draw(st.lists(values, max_size=14), label="cells"))
        self.send(url, role, method, params, htmx)

    test.__name__ = f"test_fuzz_{name}"
    return test


for _name in MATRIX:
    setattr(FuzzEveryURL, f"test_fuzz_{_name}", _fuzz(_name))

# Values an outside test found answering 500: always tried, whatever the random draw.
KNOWN_FINDINGS = [
    ("home", {"as_of": "9999-12-31"}),
    ("home", {"as_of": "0001-01-01", "since": "9999-12-31"}),
    ("home", {"fund": str(2**64), "lead": str(2**64)}),
    ("portfolio", {"fund": str(2**64)}),
    ("export_map", {"sector": "\x01", "as_of": "9999-12-31"}),
    ("ic_pack", {"as_of": "9999-12-31"}),
    ("review_bulk", {"evidence": str(2**64), "action": "verify"}),
]


class KnownFindings(FuzzBase):
    def test_known_findings(self):
        for name, params in KNOWN_FINDINGS:
            for method in ("get", "post"):
                with self.subTest(name=name, method=method):
                    self.send(reverse_row(name, self.world), PARTNER, method, params)


# --- Note bombs: notes built to make a Markdown renderer recurse or go quadratic -----------

BOMB_MARKERS = [
    "1. ",
    "[",
    "![",
    "<a ",
    "> ",
    "- ",
    "*",
    "_",
    "`",
    "[a](",
    "<",
    "&#",
    "\\",
    "[x]: ",
    "    - ",
    "**a",
    "<!--",
    "]",
    "(",
    "#",
    "\n",
    "a",
]
note_bombs = st.lists(st.sampled_from(BOMB_MARKERS), min_size=1, max_size=3).map(
    lambda parts: ("".join(parts) * NOTE_MAX_CHARS)[:NOTE_MAX_CHARS]
)


class NoteBombs(FuzzBase):
    @settings(
        max_examples=EXAMPLES_PER_URL,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(note=note_bombs)
    def test_a_note_bomb_takes_no_page_down(self, note):
        EvidenceFactory(task=self.world.task, note=note)
        client = self.world.client(PARTNER)
        for name in ("company_detail", "review_queue"):
            assert client.get(reverse_row(name, self.world)).status_code == 200, name


# --- Addresses: internal ones in every notation a resolver accepts --------------------------

INTERNAL_NETWORKS = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::1/128",
    "fe80::/10",
    "fc00::/7",
    "ff00::/8",
]


@st.composite
def internal_hosts(draw) -> str:
    """A host part of a URL naming an internal address, as dotted quad, one number (decimal
    or hex), octal quads, IPv4-mapped IPv6, or IPv6 in any compression."""
    network = ipaddress.ip_network(draw(st.sampled_from(INTERNAL_NETWORKS)))
    address = network[draw(st.integers(0, min(network.num_addresses - 1, 2**32)))]
    if address.version == 6:
        return f"[{address.compressed if draw(st.booleans()) else address.exploded}]"
    number = int(address)
    return draw(
        st.sampled_from(
            [
                str(address),
                str(number),
                hex(number),
                ".".join(f"0{int(part):o}" for part in str(address).split(".")),
                f"[::ffff:{address}]",
                f"[::ffff:{number >> 16:x}:{number & 0xFFFF:x}]",
            ]
        )
    )


@settings(max_examples=EXAMPLES_PER_URL * 20, deadline=None)
@given(host=internal_hosts(), port=st.one_of(st.none(), st.integers(1, 65535)))
def test_no_internal_address_passes_the_outgoing_check(host, port):
    url = f"http://{host}{'' if port is None else f':{port}'}/hook"
    try:
        outbound.check(url)
    except outbound.HostNotFound as wrong:
        raise AssertionError(f"{url} was not judged: {wrong}") from wrong
    except outbound.OutboundRefused:
        pass
    else:
        raise AssertionError(f"{url} passed the check")
    assert not WebhookForm({"url": url}).is_valid()
