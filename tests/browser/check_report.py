#!/usr/bin/env python3
"""Opens a trailsight HTML report in headless Chromium and checks that it renders.

Drives Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe: commands on
file descriptor 3, replies on 4), so nothing but the Python standard library and the Debian
`chromium` package is needed, and no port is opened.

Checks: the page loads with no console error, no uncaught exception and no request other than
the file itself; it draws the expected number of charts (svg.chart elements with a non-zero
box and a series path) and table rows; sorting the table by a column orders it. Optionally
saves a screenshot.

    check_report.py REPORT.html --charts N [--verdicts N] [--screenshot OUT.png]
"""

import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT_SECONDS = 60


class Browser:
    """A headless Chromium and one page of it, spoken to over the DevTools pipe."""

    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="trailsight-chromium-")
        commands_r, self.commands_w = os.pipe()
        self.replies_r, replies_w = os.pipe()

        def child_fds():
            # Chromium reads commands on fd 3 and writes replies on fd 4.
            a, b = os.dup(commands_r), os.dup(replies_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--disable-dev-shm-usage",  # containers often have a small /dev/shm
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            # Python's descriptors are not inherited; only the two made in child_fds are.
            close_fds=False,
            preexec_fn=child_fds,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("DEBUG_CHROMIUM") else subprocess.DEVNULL,
        )
        os.close(commands_r)
        os.close(replies_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply from Chromium")
            ready, _, _ = select.select([self.replies_r], [], [], left)
            if ready:
                chunk = os.read(self.replies_r, 1 << 16)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session:
            message["sessionId"] = self.session
        os.write(self.commands_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method):
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while True:
            for event in self.events:
                if event["method"] == method:
                    return event
            self.events.append(self._read_message(deadline))

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self):
        try:
            self.session = None
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


PAGE_FACTS = """(() => {
  const charts = [...document.querySelectorAll('svg.chart')];
  const drawn = charts.filter(c => {
    const box = c.getBoundingClientRect();
    return box.width > 100 && box.height > 50 && c.querySelector('path.series');
  });
  const header = [...document.querySelectorAll('#insights th')].find(h => h.textContent.startsWith('Ratio'));
  const ratios = () => [...document.querySelectorAll('#insights tbody tr')]
    .map(r => parseFloat(r.cells[header.cellIndex].getAttribute('data-v')));
  header.click();
  const ascending = ratios();
  header.click();
  const descending = ratios();
  const sorted = (a, f) => a.every((v, i) => i === 0 || f(a[i - 1], v));
  return {
    charts: charts.length,
    drawn: drawn.length,
    rows: document.querySelectorAll('#insights tbody tr').length,
    verdicts: document.querySelectorAll('#insights tbody .tag[class*="v-"]').length,
    external: document.querySelectorAll('script[src], link[href], img[src], iframe').length,
    sorts: sorted(ascending, (a, b) => a <= b) && sorted(descending, (a, b) => a >= b),
  };
})()"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("--charts", type=int, required=True, help="charts expected")
    parser.add_argument("--verdicts", type=int, help="verdict tags expected in the table")
    parser.add_argument("--screenshot", help="save a PNG of the page here")
    parser.add_argument(
        "--screenshot-at",
        metavar="TEXT",
        help="scroll to the first chart whose heading holds TEXT before the screenshot",
    )
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()

    url = "file://" + os.path.abspath(args.report)
    browser = Browser(args.chromium)
    problems = []
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable")
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
        )
        browser.call("Page.navigate", {"url": url})
        browser.wait_for("Page.loadEventFired")
        facts = browser.evaluate(PAGE_FACTS)
        if args.screenshot:
            # Sorting moved rows; reload for a picture of the page as it opens.
            browser.events.clear()
            browser.call("Page.reload")
            browser.wait_for("Page.loadEventFired")
            if args.screenshot_at:
                found = browser.evaluate(
                    "(() => { const a = [...document.querySelectorAll('article.insight')]"
                    f".find(a => a.querySelector('h3').textContent.includes({json.dumps(args.screenshot_at)}));"
                    " if (a) { a.scrollIntoView(); } return !!a; })()"
                )
                if not found:
                    problems.append(f"no chart whose heading holds {args.screenshot_at}")
            shot = browser.call("Page.captureScreenshot", {"format": "png"})
            with open(args.screenshot, "wb") as out:
                out.write(base64.b64decode(shot["data"]))
        # Let late console messages arrive.
        browser.evaluate("new Promise(r => setTimeout(r, 200))")
    finally:
        browser.close()

    for event in browser.events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            problems.append(f"console error: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"uncaught exception: {params.get('exceptionDetails')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            problems.append(f"browser error: {params['entry'].get('text')}")
        elif method == "Network.requestWillBeSent":
            requested = params["request"]["url"]
            if requested != url and not requested.startswith("data:"):
                problems.append(f"request beyond the file: {requested}")
    if facts["charts"] != args.charts or facts["drawn"] != args.charts:
        problems.append(
            f"expected {args.charts} charts, found {facts['charts']}, {facts['drawn']} drawn"
        )
    if facts["rows"] != args.charts:
        problems.append(f"expected {args.charts} table rows, found {facts['rows']}")
    if args.verdicts is not None and facts["verdicts"] != args.verdicts:
        problems.append(f"expected {args.verdicts} verdicts, found {facts['verdicts']}")
    if facts["external"]:
        problems.append(f"{facts['external']} external resources referenced")
    if not facts["sorts"]:
        problems.append("sorting by ratio did not order the table")

    name = os.path.basename(args.report)
    if problems:
        for p in problems:
            print(f"{name}: FAIL: {p}")
        return 1
    print(
        f"{name}: {facts['drawn']} charts drawn, {facts['rows']} rows, "
        f"{facts['verdicts']} verdicts, sorting works, no console errors, no requests"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
