"""The live dashboard in a real headless Chromium (Debian's chromium and chromedriver, through selenium):
three zoopark members under a write load; the page, loaded from one member's admin server and told the
other two's, charts read and write TPS, latency and the rest for each server, and its role table shows one
leader and two followers. A screenshot is kept in tests/artifacts/dashboard.png."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from procs import (
    ZooParkProcess,
    close_clients,
    ensemble_config,
    ensemble_ports,
    free_port,
    member,
    wait_settled,
)
from references import needs

pytestmark = [pytest.mark.xdist_group("ensembles"),
              needs("chromium")]
ARTIFACTS = Path(__file__).parent / "artifacts"


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1100"):
        opts.add_argument(arg)
    opts.binary_location = shutil.which("chromium") or "chromium"
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def test_the_dashboard_charts_a_loaded_ensemble_and_its_roles() -> None:
    ports = ensemble_ports((1, 2, 3))
    admins = {i: free_port() for i in ports}
    members = {i: member(ZooParkProcess, i, ensemble_config(ports) | {
        "admin.enableServer": "true", "admin.serverAddress": "127.0.0.1", "admin.serverPort": str(admins[i])})
        for i in ports}
    stop = threading.Event()
    driver = None
    clients: list[KazooClient] = []
    threads: list[threading.Thread] = []
    try:
        for p in members.values():
            p.start(wait=False)
        roles = wait_settled(list(members.values()))
        lid = next(i for i, p in members.items() if p is roles["leader"][0])
        clients += [KazooClient(p.hosts) for p in members.values()]
        for c in clients:
            c.start(timeout=30)
        clients[0].create("/load", b"")

        def load(c: KazooClient) -> None:
            for i in range(1_000_000):
                if stop.is_set():
                    return
                c.set("/load", b"%d" % i)
                c.get("/load")

        threads += [threading.Thread(target=load, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        driver = browser()
        others = ",".join(f"127.0.0.1:{admins[i]}" for i in ports)
        driver.get(f"http://127.0.0.1:{admins[1]}/dashboard?servers={others}&every=300")
        count = "return Object.fromEntries(Object.entries(window.zooparkDashboard.charts).map(" \
                "([k, c]) => [k, c.data.datasets.map(d => d.data.length)]))"
        points: dict = {}
        for _ in range(200):
            points = driver.execute_script(count)
            if all(min(n) >= 5 for n in points.values()):
                break
            time.sleep(0.1)
        assert all(min(n) >= 5 for n in points.values()), points
        writes = driver.execute_script(
            "return window.zooparkDashboard.charts.writes.data.datasets.map(d => d.data.map(p => p.y))")
        assert all(max(series) > 0 for series in writes), "every server applied writes: TPS above zero"
        for chart in ("reads", "fsync"):  # every member serves reads and fsyncs its log
            series = driver.execute_script(
                f"return window.zooparkDashboard.charts.{chart}.data.datasets.map(d => d.data.map(p => p.y))")
            assert all(max(s) > 0 for s in series), (chart, series)
        table = driver.execute_script(  # in one go: the page redraws the table at every poll
            "return [...document.querySelectorAll('#roles tbody tr')].map(tr => [...tr.children]"
            ".map(td => td.textContent))")
        modes = {int(row[1]): row[2] for row in table}
        assert modes == {i: ("leader" if i == lid else "follower") for i in ports}, table
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "dashboard.png"))
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        close_clients(clients)
        if driver is not None:
            driver.quit()
        for p in members.values():
            p.cleanup()
