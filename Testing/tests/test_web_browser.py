"""`alk-radiomics web` in a real browser (issue 15): Debian's chromium, driven by Playwright, against the
server in its own process, on the lung2 CT. What a radiologist does, checked by what comes out: the
outline against the expert label, the voxel count after Paint and Undo, the score and the JSON
against `alk-radiomics score` on the same outline, and one message for each bad input."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from scipy import ndimage
from web_harness import (
    WebServer,
    axial_view,
    clear_message,
    click_seed_at,
    dice,
    download,
    index_ras,
    label_centre_ras,
    launch_browser,
    message,
    missing_requirements,
    open_case,
    paint_stroke,
    voxels,
    wait_message,
    wait_voxels,
)

if missing_requirements():
    pytest.skip(missing_requirements(), allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from ALKRadiomicsLib.cli import main  # noqa: E402
from ALKRadiomicsLib.scoring.summary import percent  # noqa: E402

PNG_1X1 = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b55"
                        "0000000a49444154789c63600000000200015b5b2c470000000049454e44ae426082")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, sample_data) -> Path:
    """The --data folder: one truncated NRRD (the bad file a user may pick) beside a good CT."""
    folder = tmp_path_factory.mktemp("data")
    content = (sample_data / "lung2_image.nrrd").read_bytes()
    (folder / "truncated.nrrd").write_bytes(content[: len(content) // 3])
    (folder / "notes.txt").write_text("not a CT\n")
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory, data_dir):
    web = WebServer(tmp_path_factory.mktemp("web"), data_dir)
    yield web
    web.stop()


@pytest.fixture(scope="module")
def page(server):
    with sync_playwright() as playwright:
        browser = launch_browser(playwright)
        tab = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        tab.set_default_timeout(60000)
        tab.goto(server.url)
        tab.get_by_test_id("open-case").wait_for()
        yield tab
        browser.close()


@pytest.fixture(scope="module")
def outline(page, sample_data, tmp_path_factory):
    """lung2 opened and outlined from a click at the expert label's centre; the downloaded outline's path."""
    open_case(page)
    wait_message(page, "Opened lung2")
    click_seed_at(page, label_centre_ras(sample_data / "lung2_label.nrrd"))
    assert message(page).startswith("Outline made"), message(page)
    page.get_by_test_id("review").filter(has_text=re.compile(r"Volume \d+ mm3")).wait_for()  # follows the outline
    return download(page, "download-outline", tmp_path_factory.mktemp("outline") / "lung2_outline.nrrd")


def test_page_shows_the_lung2_ct(page, outline, tmp_path):
    shot = tmp_path / "axial.png"
    axial_view(page).screenshot(path=shot)
    pixels = np.asarray(sitk.ReadImage(str(shot)))
    assert pixels.std() > 20  # lungs, mediastinum and chest wall, not a blank view


def test_click_at_the_label_centre_outlines_lung2_with_dice_at_least_080(page, outline, sample_data):
    label = sitk.GetArrayFromImage(sitk.ReadImage(str(sample_data / "lung2_label.nrrd"))) > 0
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(outline))) > 0
    assert dice(mask, label) >= 0.80
    assert voxels(page) == np.count_nonzero(mask)
    assert re.search(r"longest axial diameter \d+\.\d mm", page.get_by_test_id("review").inner_text())


def test_paint_stroke_changes_the_voxel_count_and_undo_restores_it(page, outline):
    before, review_before = voxels(page), page.get_by_test_id("review").inner_text()
    page.get_by_test_id("tool-paint").click()
    paint_stroke(page)
    painted = wait_voxels(page, f"n > {before}")
    page.wait_for_function("t => document.querySelector('[data-testid=review]').innerText !== t", arg=review_before)
    page.get_by_test_id("undo").click()
    assert wait_voxels(page, f"n === {before}") == before < painted
    page.get_by_test_id("tool-none").click()


def test_score_and_json_equal_the_cli_on_the_same_outline(page, outline, sample_data, tmp_path):
    page.get_by_test_id("score").click()
    wait_message(page, "Scored|rror")
    assert message(page).startswith("Scored"), message(page)
    web = json.loads(download(page, "download-json", tmp_path / "web.json").read_text())
    assert download(page, "download-report", tmp_path / "web.pdf").read_bytes().startswith(b"%PDF")

    cli_json = tmp_path / "cli.json"
    assert main(["score", "--image", str(sample_data / "lung2_image.nrrd"), "--mask", str(outline),
                 "--case-id", "lung2", "--json", str(cli_json)]) == 0
    cli = json.loads(cli_json.read_text())
    for document in (web, cli):  # paths differ by design: the web's CT is a scene node, not a file
        document["case"].pop("image"), document["case"].pop("mask")
    assert web == cli
    shown = " ".join(page.get_by_test_id("result").inner_text().split())
    assert f"ALK probability {percent(cli['alk']['probability'])}" in shown
    page.get_by_test_id("show-3d").locator("input").check()
    page.wait_for_timeout(2000)  # the surface and the 3D view's next frame
    assert "ALK probability" in page.get_by_test_id("result").inner_text()  # showing it in 3D is no edit
    if os.environ.get("ALK_RADIOMICS_SCREENSHOTS"):  # the README's picture
        page.get_by_test_id("review").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(Path(os.environ["ALK_RADIOMICS_SCREENSHOTS"]) / "web_app.png"))
    page.get_by_test_id("show-3d").locator("input").uncheck()


def test_keep_largest_island_drops_a_stray_stroke_and_undo_brings_it_back(page, outline):
    before = voxels(page)
    page.get_by_test_id("tool-paint").click()
    paint_stroke(page, dx=-200, dy=120, length=20)  # far from the nodule: a separate island
    painted = wait_voxels(page, f"n > {before}")
    page.get_by_test_id("tool-none").click()
    page.get_by_test_id("keep-largest").click()
    # the stroke goes; so may a few voxels the outline touches only by an edge or corner (Islands counts
    # faces as connections)
    kept = wait_voxels(page, f"n < {before} + 1")
    assert before - 0.01 * before <= kept <= before < painted
    page.get_by_test_id("undo").click()
    wait_voxels(page, f"n === {painted}")
    page.get_by_test_id("undo").click()
    assert wait_voxels(page, f"n === {before}") == before


def _one_clear_line(page) -> str:
    text = message(page)
    assert "\n" not in text.strip() and "Traceback" not in text and "/tmp" not in text, text
    return text


def test_bad_input_gives_one_message_changes_nothing_and_the_server_keeps_running(
        page, outline, server, data_dir, tmp_path, sample_data):
    files_before = sorted((p.name, p.stat().st_mtime_ns) for p in data_dir.iterdir())
    scratch_before = sorted(server.tmp.rglob("*"))  # MRML's own empty scratch folder, made at startup
    count = voxels(page)
    cases = [("scan.png", PNG_1X1, "not a CT volume"),
             ("truncated.nrrd", (sample_data / "lung2_image.nrrd").read_bytes()[:200000], "Cannot read")]
    for name, content, expected in cases:
        (tmp_path / name).write_bytes(content)
        clear_message(page)
        page.get_by_test_id("upload").locator("input[type=file]").set_input_files(tmp_path / name)
        assert expected in wait_message(page, expected)
        assert name in _one_clear_line(page)
    for choice, expected in (("truncated.nrrd", "Cannot read"), ("../outside.nrrd", "outside the data folder"),
                             ("notes.txt", "not a CT file")):
        open_case(page, choice)
        wait_message(page, expected)
        _one_clear_line(page)
    assert voxels(page) == count  # the case on screen is untouched

    ct = sitk.ReadImage(str(sample_data / "lung2_image.nrrd"))
    array = sitk.GetArrayFromImage(ct)
    air = index_ras(ct, (array.shape[0] // 2, 3, 3))
    labels, _ = ndimage.label(array > 500)
    largest = np.argmax(np.bincount(labels.ravel())[1:]) + 1
    bone_voxels = np.argwhere(ndimage.binary_erosion(labels == largest, iterations=2))
    bone = index_ras(ct, bone_voxels[len(bone_voxels) // 2])
    for point, expected in ((air, "air outside the body"), (bone, "bone")):
        click_seed_at(page, point)
        assert expected in _one_clear_line(page)
    assert voxels(page) == count  # the outline from before stays

    assert server.alive()
    assert sorted((p.name, p.stat().st_mtime_ns) for p in data_dir.iterdir()) == files_before
    assert not list(server.cwd.iterdir()) and sorted(server.tmp.rglob("*")) == scratch_before
