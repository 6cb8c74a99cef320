"""The page end to end in a real headless browser: Debian's chromium, driven by Playwright's Python package.

Playwright drives the system browser (`executable_path`); it never downloads one. Without
/usr/bin/chromium (or without the playwright package) the tests are skipped, saying why;
`.ci/run` installs chromium, so CI always runs them.
"""

from __future__ import annotations

import io
import shutil
import time

import numpy as np
import pytest
from PIL import Image
from serve_support import EXAMPLES, FAST, cli_error

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

if CHROMIUM is None:
    pytest.skip("no browser: chromium is not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="no browser driver: pip install playwright")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A fresh chromium profile; downloads allowed."""
    with sync_api.sync_playwright() as driver:
        context = driver.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")), executable_path=CHROMIUM, args=FLAGS, headless=True,
            accept_downloads=True, viewport={"width": 1280, "height": 800})
        yield context
        context.close()


@pytest.fixture
def page(browser, server):
    """The page, loaded, with the fast settings filled in."""
    page = browser.new_page()
    page.requested, page.console_errors = [], []
    page.on("request", lambda request: page.requested.append(request.url))
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.goto(server.url)
    page.wait_for_selector("body[data-state=idle]", timeout=20_000)
    for key in ("threshold", "resolution", "upsampling"):
        page.fill(f"#{key}", FAST[key])
    yield page
    page.close()


def drawn_share(png: bytes) -> float:
    """Share of the pixels of a screenshot that are not the white background."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    return float(np.mean(np.abs(pixels - 255).max(axis=2) > 16))


def test_picture_to_mesh_in_the_browser(page, server, shipped_model, tmp_path):
    from vitocc.generation import load_image, reconstruct_images, save_mesh

    started = time.perf_counter()
    page.set_input_files("#file", str(EXAMPLES / "chair.png"))
    page.wait_for_selector("body[data-state=ready]", timeout=120_000)
    viewer = page.frame_locator("#viewer").locator("canvas")
    viewer.wait_for(timeout=30_000)
    share = 0.0
    for _ in range(40):  # the viewer draws once its glTF is parsed
        share = drawn_share(page.locator("#viewer").screenshot())
        if share > 0.02:
            break
        page.wait_for_timeout(250)
    assert 0.02 < share < 0.9, f"the viewer shows {share:.1%} non-background pixels: the mesh is not drawn"
    page.screenshot(path=str(tmp_path / "serve.png"))
    print(f"upload to drawn mesh: {time.perf_counter() - started:.1f} s; screenshot {tmp_path / 'serve.png'}")

    # The cut-out the model saw, and the settings used.
    assert page.eval_on_selector("#picture", "img => img.complete && img.naturalWidth") > 100
    assert page.text_content("#used") == ("chair.png: threshold 0.4, resolution 16, upsampling 1, cropped, "
                                          "background cut, coloured")
    assert "watertight yes" in page.text_content("#info")

    # Rotating (a drag) changes the view.
    box = page.locator("#viewer").bounding_box()
    before = page.locator("#viewer").screenshot()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2 + 40, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
    assert page.locator("#viewer").screenshot() != before

    # Offline: everything came from the server (the viewer's glTF is a data: URL), and nothing failed.
    assert [url for url in page.requested if not url.startswith((server.url, "data:", "blob:"))] == []
    assert page.console_errors == []

    # Each download is the file the library (hence the CLI) writes for this picture and these settings.
    model, _ = shipped_model
    gen = server.reconstructor.generation(server.reconstructor.settings_from(FAST))
    [(mesh, _)] = reconstruct_images([load_image(EXAMPLES / "chair.png")], model, gen, "cpu", crop=False)
    for fmt in ("glb", "obj", "ply"):
        with page.expect_download() as download:
            page.click(f"#downloads a[data-format={fmt}]")
        assert download.value.suggested_filename == f"chair.{fmt}"
        download.value.save_as(tmp_path / f"page.{fmt}")
        save_mesh(mesh, tmp_path / f"library.{fmt}")
        assert (tmp_path / f"page.{fmt}").read_bytes() == (tmp_path / f"library.{fmt}").read_bytes(), fmt


@pytest.mark.parametrize("bad", ["notes", "bomb", "blank"])
def test_bad_pictures_show_the_cli_message(page, bad_pictures, bad, capsys, monkeypatch):
    page.set_input_files("#file", str(bad_pictures[bad]))
    page.wait_for_selector("body[data-state=error]", timeout=60_000)
    assert page.text_content("#error") == "error: " + cli_error(capsys, monkeypatch, bad_pictures[bad])


def test_too_large_upload_shows_the_limit(page, bad_pictures):
    page.set_input_files("#file", str(bad_pictures["huge"]))
    page.wait_for_selector("body[data-state=error]", timeout=60_000)
    message = page.text_content("#error")
    assert message.startswith("error: huge.jpg: the file is too large (3.0 MB)") and "at most 3.0 MB" in message


def test_dropped_picture_and_new_settings(page):
    """A picture dropped on the page is reconstructed; 'Reconstruct again' uses it with the new settings."""
    data = list((EXAMPLES / "chair.png").read_bytes())
    page.evaluate("""(data) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(data)], "dropped.png", {type: "image/png"}));
        document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
    }""", data)
    page.wait_for_selector("body[data-state=ready]", timeout=120_000)
    assert page.text_content("#used").startswith("dropped.png: threshold 0.4, resolution 16, upsampling 1")
    faces = int(page.text_content("#info").split(" vertices, ")[1].split(" faces")[0])
    page.fill("#resolution", "8")
    page.click("#again")
    page.wait_for_function("document.querySelector('#used').textContent.includes('resolution 8')", timeout=120_000)
    page.wait_for_selector("body[data-state=ready]", timeout=120_000)
    assert int(page.text_content("#info").split(" vertices, ")[1].split(" faces")[0]) < faces
    assert page.get_attribute("#downloads a[data-format=glb]", "href").endswith("/mesh.glb")


def test_mask_goes_with_the_picture(page, tmp_path):
    width, height = Image.open(EXAMPLES / "chair.png").size
    mask = np.zeros((height, width), np.uint8)
    mask[height // 2:, :] = 255
    Image.fromarray(mask).save(tmp_path / "lower.png")
    page.set_input_files("#mask", str(tmp_path / "lower.png"))
    page.set_input_files("#file", str(EXAMPLES / "chair.png"))
    page.wait_for_selector("body[data-state=ready]", timeout=120_000)
    assert "mask lower.png" in page.text_content("#used")
    page.click("#nomask")
    page.click("#again")
    page.wait_for_function("document.querySelector('#used').textContent.includes('background cut')", timeout=120_000)
