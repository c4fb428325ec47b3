"""Headless Chromium for the browser tests and the benchmark (Playwright, test extra only).

Uses the system Chromium (Debian's ``chromium`` package), never a Playwright download, with a fresh
profile and everything that would reach the network in the background turned off."""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
READY = ("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
         "() => r(performance.now()))))")  # ms from navigation start to the first frames after load


@contextmanager
def chromium(viewport=(1280, 800)):
    """A persistent-context Chromium page factory on a throw-away user-data-dir."""
    from playwright.sync_api import sync_playwright
    profile = tempfile.mkdtemp(prefix="ree-chromium-")
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True, args=ARGS,
                viewport={"width": viewport[0], "height": viewport[1]})
            try:
                yield ctx
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def time_to_interactive(page) -> float:
    """Milliseconds from navigation start until the page has loaded and painted twice."""
    return page.evaluate(READY)
