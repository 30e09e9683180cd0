"""Exporting the map in a real headless Chromium: the file is the filtered view on screen."""

import re
import xml.etree.ElementTree as ET

import pytest
from playwright.sync_api import expect

from assessments.demo import DEMO_PASSWORD, load_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_exported_svg_is_the_filtered_map(page, live_server):
    load_demo()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "partner")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#map-chart .main-svg")

    with page.expect_response(re.compile(r"sector=Legal")):
        page.select_option("select[name=sector]", "Legal")
    expect(page.locator("#map-table tbody tr")).to_have_count(1)

    # The menu came with the swapped fragment, so its links carry the new filter.
    page.click(".export-menu summary")
    link = page.locator(".export-menu a", has_text="SVG").first
    expect(link).to_have_attribute("href", re.compile(r"sector=Legal"))
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".svg")
    root = ET.parse(download.path()).getroot()
    texts = ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("Portfolio map") for t in texts)
    assert any("sector Legal" in t for t in texts)
    assert any("Lexbench" in t for t in texts)
