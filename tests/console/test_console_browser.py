"""The console in headless Chromium (Debian's chromium + chromedriver, selenium):
log in, filter, open a transcript, reveal as coordinator (refused as reviewer),
change an enquiry's status, correct an intent in the inbox, download the NLU
export. Saves a screenshot of each main page under docs/screenshots/."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from tests.console.conftest import MISS_TWO, PHONE_MAIN
from tests.console.support import PASSWORD
from tests.support.browser import chromium, screenshot

pytestmark = pytest.mark.e2e


def by(kind: str):
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def login(driver, base: str, name: str) -> None:
    driver.get(base + "/login")
    driver.find_element(by("ID"), "name").send_keys(name)
    driver.find_element(by("ID"), "password").send_keys(PASSWORD)
    click_and_wait(driver, driver.find_element(by("ID"), "login"))
    assert driver.current_url.endswith("/overview"), driver.current_url


def accept_confirm(driver) -> None:
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 5).until(expected_conditions.alert_is_present())
    driver.switch_to.alert.accept()


def click_and_wait(driver, element) -> None:
    """Click a submit button and wait for the next page, so nothing races the POST."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def old_page_gone(_driver) -> bool:
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            # Mid-navigation, Chromium can report the old page's node this way
            # instead of as stale; it means the same.
            if "does not belong to the document" in str(exc):
                return True
            raise

    element.click()
    WebDriverWait(driver, 15).until(old_page_gone)


def wait_for_file(folder: Path, pattern: str, timeout: float = 15) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(pattern) if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.2)
    pytest.fail(f"no {pattern} downloaded into {folder}")


def test_reviewer_filters_reads_a_masked_transcript_and_cannot_reveal(console_stack):
    base = console_stack.server.url
    sender = console_stack.driven.senders["miss"]
    with chromium() as driver:
        login(driver, base, "bob")
        screenshot(driver, "console-overview")
        assert len(driver.find_elements(by("CSS_SELECTOR"), "svg.chart")) == 6
        click_and_wait(driver, driver.find_element(by("LINK_TEXT"), "Conversations"))
        driver.find_element(by("ID"), "filter-handover").click()
        driver.find_element(by("ID"), "filter-enquiry").click()
        click_and_wait(driver, driver.find_element(by("ID"), "apply-filters"))
        assert "handover=1" in driver.current_url and "enquiry=1" in driver.current_url
        links = driver.find_elements(by("CSS_SELECTOR"), "#conversations a.open")
        hrefs = [link.get_attribute("href") for link in links]
        assert any(href.endswith(sender) for href in hrefs)
        screenshot(driver, "console-conversations")
        driver.get(base + f"/conversations/view?id={sender}")
        transcript = driver.find_element(by("ID"), "transcript").text
        assert "[phone]" in transcript and PHONE_MAIN not in transcript
        assert "nlu_fallback" in transcript
        assert not driver.find_elements(by("ID"), "reveal")
        screenshot(driver, "console-transcript")
        driver.get(base + "/enquiries")
        assert "Not allowed" in driver.page_source
        assert "This needs the coordinator role" in driver.page_source


def test_coordinator_reveals_changes_status_and_reviews_the_inbox(console_stack, tmp_path):
    base = console_stack.server.url
    sender = console_stack.driven.senders["miss"]
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with chromium() as driver:
        driver.execute_cdp_cmd("Page.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": str(downloads)})
        login(driver, base, "alice")
        # Reveal a phone number (a confirmation first; audited).
        driver.get(base + f"/conversations/view?id={sender}")
        driver.find_element(by("ID"), "reveal").click()
        accept_confirm(driver)
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 15).until(lambda d: d.find_elements(by("ID"), "revealed"))
        assert PHONE_MAIN in driver.find_element(by("ID"), "transcript").text

        # The enquiry list links to the conversation; change the status.
        driver.get(base + "/enquiries")
        screenshot(driver, "console-enquiries")
        row = next(r for r in driver.find_elements(by("CSS_SELECTOR"), "#enquiries tbody tr")
                   if r.find_elements(by("CSS_SELECTOR"), f'a[href$="{sender}"]'))
        click_and_wait(driver, row.find_element(by("CSS_SELECTOR"), "a.open"))
        from selenium.webdriver.support.ui import Select

        Select(driver.find_element(by("ID"), "status")).select_by_visible_text("contacted")
        driver.find_element(by("ID"), "notes").clear()
        driver.find_element(by("ID"), "notes").send_keys("Called back, <i>left</i> a message")
        click_and_wait(driver, driver.find_element(by("ID"), "save-status"))
        assert driver.find_element(by("ID"), "current-status").text == "contacted"
        history = driver.find_element(by("ID"), "history").text
        assert "alice" in history and "→ contacted" in history
        assert "<i>left</i>" in driver.find_element(by("ID"), "notes").get_attribute("value")
        screenshot(driver, "console-enquiry")

        # Correct an intent in the NLU inbox.
        driver.get(base + "/inbox?q=qqq")
        row = next(r for r in driver.find_elements(by("CSS_SELECTOR"), "#inbox tbody tr")
                   if MISS_TWO in r.text)
        correct = row.find_element(by("CSS_SELECTOR"), "button.correct")
        assert not correct.is_enabled()  # console.js: choose an intent first
        Select(row.find_element(by("CSS_SELECTOR"), "select.intent")).select_by_visible_text(
            "contact/phone_numbers")
        assert correct.is_enabled()
        click_and_wait(driver, correct)
        driver.get(base + "/inbox?show=reviewed&q=qqq")
        assert "contact/phone_numbers" in driver.find_element(by("ID"), "inbox").text
        driver.get(base + "/inbox?show=all")
        screenshot(driver, "console-inbox")

        # Download the NLU export.
        driver.find_element(by("ID"), "export-nlu").click()
        exported = wait_for_file(downloads, "reviewed*.yml")
        data = yaml.safe_load(exported.read_text())
        examples = {item["intent"]: item["examples"] for item in data["nlu"]}
        assert f"- {MISS_TWO}" in examples["contact/phone_numbers"].splitlines()

        driver.get(base + "/audit")
        audit_text = driver.find_element(by("ID"), "audit").text
        assert "reveal" in audit_text and "export_nlu" in audit_text
        assert "intact" in driver.find_element(by("ID"), "chain").text
        screenshot(driver, "console-audit")
