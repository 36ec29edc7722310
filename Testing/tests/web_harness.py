"""What the browser tests and bench_web.py share: a real ``alk-radiomics web`` server in its own process,
Debian's chromium driven by Playwright, and the user's moves on the page (open, go to, click, paint)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

REPOSITORY = Path(__file__).resolve().parents[2]


def chromium_path() -> str | None:
    """Debian's chromium (Playwright's own browser download cannot work on CI)."""
    return os.environ.get("ALK_RADIOMICS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def missing_requirements() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
        import trame_slicer  # noqa: F401
    except ImportError as error:
        return f"the browser tests need the [web] extra (make test installs it): {error}"
    if chromium_path() is None:
        return "the browser tests need Debian's chromium (apt-get install chromium; .ci/run installs it)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class WebServer:
    """``python -m ALKRadiomicsLib web`` on a free port, with its own working and temporary folders
    (so a test can check that nothing was written)."""

    def __init__(self, workdir: Path, data_dir: Path | None = None) -> None:
        self.cwd, self.tmp = workdir / "cwd", workdir / "tmp"
        self.cwd.mkdir(parents=True)
        self.tmp.mkdir()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        command = [sys.executable, "-m", "ALKRadiomicsLib", "web", "--port", str(self.port)]
        if data_dir is not None:
            command += ["--data", str(data_dir)]
        env = {**os.environ, "TMPDIR": str(self.tmp), "PYTHONPATH": str(REPOSITORY)}
        self.log = workdir / "server.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_up()

    def _wait_until_up(self, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the web server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("the web server did not answer within 120 s")

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_mb(self) -> float:
        """Resident memory of the server process (Linux /proc)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])


def label_centre_ras(label_path: Path) -> tuple[float, float, float]:
    """The expert label's centre of mass in RAS mm (what a click at the nodule's centre places)."""
    label = sitk.ReadImage(str(label_path))
    centre = ndimage.center_of_mass(sitk.GetArrayFromImage(label) > 0)
    lps = label.TransformContinuousIndexToPhysicalPoint([float(v) for v in centre[::-1]])
    return -lps[0], -lps[1], lps[2]


def index_ras(image: sitk.Image, index_zyx) -> tuple[float, float, float]:
    lps = image.TransformIndexToPhysicalPoint([int(v) for v in index_zyx[::-1]])
    return -lps[0], -lps[1], lps[2]


def dice(a: np.ndarray, b: np.ndarray) -> float:
    return 2.0 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))


# -- the user's moves -------------------------------------------------------------------------------
def message(page) -> str:
    return page.get_by_test_id("message").inner_text()


def wait_message(page, pattern: str, timeout_ms: float = 60000) -> str:
    """Wait until the page's one message matches ``pattern`` (a regular expression); returns it."""
    import re

    page.get_by_test_id("message").filter(has_text=re.compile(pattern)).wait_for(timeout=timeout_ms)
    return message(page)


def clear_message(page) -> None:
    """Empty the message (so that the next one, even if it repeats, is seen arriving)."""
    page.evaluate("window.trame.state.set('message', '')")
    page.get_by_test_id("message").wait_for(state="detached")


def choose_case(page, case: str) -> None:
    """Pick ``case`` in the case list as a user does (a name the server does not offer: set it directly,
    as a hand-made request would)."""
    page.get_by_test_id("case-select").click()
    option = page.get_by_role("option", name=case, exact=True)
    if option.count():
        option.click()
    else:
        page.keyboard.press("Escape")
        page.evaluate(f"window.trame.state.set('case_choice', {case!r})")
        page.wait_for_timeout(300)


def axial_view(page):
    return page.locator(".layout-grid-item", has=page.get_by_test_id("view-Red")).locator("img")


def open_case(page, case: str = "sample:lung2") -> None:
    clear_message(page)
    choose_case(page, case)
    page.get_by_test_id("open-case").click()


def click_seed_at(page, ras) -> float:
    """Centre the views on ``ras`` (mm), place the seed there with a click in the axial view; returns the
    seconds from the click to the page's answer (an outline, or a message saying why not)."""
    page.get_by_test_id("goto").locator("input").fill(", ".join(f"{v:.2f}" for v in ras))
    page.get_by_test_id("goto-button").click()
    clear_message(page)
    page.get_by_test_id("place-seed").click()
    wait_message(page, "Click inside the nodule")
    box = axial_view(page).bounding_box()
    start = time.perf_counter()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_message(page, "Outline made|seed is|no outline|lung")
    return time.perf_counter() - start


def voxels(page) -> int:
    return int(page.get_by_test_id("voxels").get_attribute("data-voxels"))


def wait_voxels(page, predicate: str, timeout_ms: float = 30000) -> int:
    """Wait until the voxel count satisfies ``predicate`` (JavaScript on ``n``); returns it."""
    page.wait_for_function(f"(n => {predicate})(Number(document.querySelector('[data-testid=voxels]')"
                           ".dataset.voxels))", timeout=timeout_ms)
    return voxels(page)


def paint_stroke(page, dx: float = 40, dy: float = -60, length: int = 40) -> None:
    """A short horizontal stroke in the axial view, ``dx, dy`` pixels from its centre."""
    box = axial_view(page).bounding_box()
    x, y = box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + length * step / 10, y, steps=2)
    page.mouse.up()


def download(page, testid: str, target: Path) -> Path:
    with page.expect_download() as info:
        page.get_by_test_id(testid).click()
    info.value.save_as(target)
    return target
