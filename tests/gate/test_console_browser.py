"""The console end to end in headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

Skips with the reason when Chromium, ChromeDriver or Selenium is missing (scripts/ci_services.sh installs them).
"""

from __future__ import annotations

import base64
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip("needs Debian's chromium and chromium-driver (run scripts/ci_services.sh or "
                "apt-get install chromium chromium-driver)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install 'dabai[dev]')")
uvicorn = pytest.importorskip("uvicorn")

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from dabai.gate.check import GateChecker  # noqa: E402
from dabai.gate.console.app import create_app  # noqa: E402
from dabai.gate.console.auth import set_password  # noqa: E402
from dabai.gate.passes import issue_pass, verify_text  # noqa: E402
from dabai.gate.qr import decode_qr  # noqa: E402
from dabai.gate.snapshots import write_live  # noqa: E402

from .helpers import FakeDetector, face, qr_frame  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(home, config, registry):
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(home, config, registry), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "console did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-quic", "--no-first-run", f"--user-data-dir={tmp_path / 'chrome'}",
                 "--window-size=1280,1000"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_console_in_chromium(server, browser, home, config, registry, signer, resident, tmp_path):
    set_password(registry, "admin", "correct horse")
    # some history and a live frame, as `dabai gate run` would leave them
    det = FakeDetector([face("with_mask", 0.93)])
    checker = GateChecker(home, registry, config, detector=det)
    good = issue_pass(registry, signer, resident.id).text
    checker.check(qr_frame(good), intent="enter", reply_audio=False)
    det.faces = [face("without_mask", 0.88)]
    checker.check(qr_frame(good), intent="enter", reply_audio=False)
    write_live(home.live_dir, np.full((480, 640, 3), 120, np.uint8), det.faces, "checking", config.gate_id)
    wait = WebDriverWait(browser, 15)

    browser.get(server + "/")
    assert browser.current_url.endswith("/login")  # login required
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys("wrong password")
    browser.find_element(By.ID, "login").click()
    assert "wrong user name or password" in wait.until(EC.presence_of_element_located((By.ID, "error"))).text
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys("correct horse")
    browser.find_element(By.ID, "login").click()

    # dashboard: the live frame with its box is drawn by the local script
    wait.until(EC.text_to_be_present_in_element((By.ID, "live-state"), "state: checking"))
    wait.until(lambda d: d.execute_script(
        "var c=document.getElementById('live-canvas');"
        "return c.width===640 && c.getContext('2d').getImageData(380,120,1,1).data[0] > 180;"))  # red box edge
    assert len(browser.find_elements(By.CSS_SELECTOR, "#events-table tbody tr")) == 2
    browser.save_screenshot(str(tmp_path / "dashboard.png"))

    # decision log with a filter
    browser.find_element(By.ID, "nav-events").click()
    Select(wait.until(EC.presence_of_element_located((By.ID, "filter-outcome")))).select_by_value("deny")
    unfiltered = browser.find_element(By.ID, "events-table")
    browser.find_element(By.ID, "apply-filters").click()
    wait.until(EC.staleness_of(unfiltered))  # the form submit loads a new page; read its table, not the old one
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#events-table tbody tr"))
    assert len(rows) == 1 and "no_mask" in rows[0].text and "deny" in rows[0].text

    # residents: add one
    browser.find_element(By.ID, "nav-residents").click()
    browser.find_element(By.ID, "resident-name").send_keys("王五")
    browser.find_element(By.ID, "resident-unit").send_keys("2-1-301")
    browser.find_element(By.ID, "add-resident-button").click()
    assert "added 王五" in wait.until(EC.presence_of_element_located((By.ID, "message"))).text
    names = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#residents-table td.name")]
    assert names == ["张三", "王五"]

    # passes: issue one for 王五, read its QR back, then revoke it
    browser.find_element(By.ID, "nav-passes").click()
    Select(browser.find_element(By.ID, "pass-resident")).select_by_visible_text("王五 (2-1-301)")
    browser.find_element(By.ID, "pass-days").clear()
    browser.find_element(By.ID, "pass-days").send_keys("7")
    browser.find_element(By.ID, "issue-pass-button").click()
    pass_id = wait.until(EC.presence_of_element_located((By.ID, "issued-id"))).text
    src = browser.find_element(By.ID, "issued-qr").get_attribute("src")
    import cv2

    png = np.frombuffer(base64.b64decode(src.split(",", 1)[1]), np.uint8)
    text = decode_qr(cv2.imdecode(png, cv2.IMREAD_COLOR))[0].text
    keys = checker.keys
    check = verify_text(registry, keys, text)
    assert check.valid and check.resident.name == "王五" and check.pass_id == pass_id
    browser.save_screenshot(str(tmp_path / "issued.png"))
    browser.find_element(By.ID, "nav-passes").click()
    browser.find_element(By.ID, f"revoke-{pass_id}").click()
    assert f"revoked {pass_id}" in wait.until(EC.presence_of_element_located((By.ID, "message"))).text
    assert verify_text(registry, keys, text).reason == "revoked"

    # log out: pages need a login again
    browser.find_element(By.ID, "logout").click()
    wait.until(EC.url_contains("/login"))
    browser.get(server + "/residents")
    assert browser.current_url.endswith("/login")
