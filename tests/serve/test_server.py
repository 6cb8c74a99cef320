"""The server over plain HTTP (no browser): the page, uploads, the CLI's meshes and messages, limits."""

from __future__ import annotations

import io
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest
import requests
from PIL import Image
from serve_support import EXAMPLES, FAST, MAX_UPLOAD_BYTES, cli_error

from vitocc.errors import UserError
from vitocc.models import load_model
from vitocc.serve import Reconstructor, make_server


def upload(server, path, **query) -> requests.Response:
    return requests.post(f"{server.url}api/reconstruct", params={"name": path.name, **query},
                         data=path.read_bytes(), timeout=120)


@pytest.fixture(scope="module")
def chair(server) -> dict:
    answer = upload(server, EXAMPLES / "chair.png", **FAST)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_page_and_its_files_are_served_from_the_package(server):
    page = requests.get(server.url, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<script src="/static/app.js">' in page.text and 'type="file"' in page.text
    for name, kind in [("app.js", "text/javascript"), ("style.css", "text/css")]:
        answer = requests.get(f"{server.url}static/{name}", timeout=10)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(kind) and answer.content
    for bad in ["static/missing.js", "static/..%2Fserver.py", "static/../server.py", "nothing"]:
        assert requests.get(server.url + bad, timeout=10).status_code == 404, bad
    settings = requests.get(f"{server.url}api/settings", timeout=10).json()
    gen = server.reconstructor.cfg.generation
    assert settings["settings"] == {"threshold": gen.threshold, "resolution": gen.resolution0,
                                    "upsampling": gen.upsampling_steps, "crop": True, "cut_background": True,
                                    "colour": True}
    assert settings["max_upload_bytes"] == MAX_UPLOAD_BYTES and settings["formats"] == ["glb", "obj", "ply"]


def test_downloads_are_the_files_the_library_writes_for_the_same_settings(server, shipped_model, chair, tmp_path):
    from vitocc.generation import load_image, reconstruct_images, save_mesh

    model, cfg = shipped_model
    assert chair["settings"] == {"threshold": 0.4, "resolution": 16, "upsampling": 1, "crop": True,
                                 "cut_background": True, "colour": True}
    gen = server.reconstructor.generation(server.reconstructor.settings_from(FAST))
    picture = load_image(EXAMPLES / "chair.png")
    [(mesh, info)] = reconstruct_images([picture], model, gen, "cpu", crop=False)
    assert chair["faces"] == info.faces > 1000 and chair["vertices"] == info.vertices and chair["watertight"]
    for fmt in ("glb", "obj", "ply"):
        answer = requests.get(server.url + chair["downloads"][fmt].lstrip("/"), timeout=30)
        assert answer.status_code == 200
        assert answer.headers["Content-Disposition"] == f'attachment; filename="chair.{fmt}"'
        save_mesh(mesh, tmp_path / f"chair.{fmt}")
        assert answer.content == (tmp_path / f"chair.{fmt}").read_bytes(), fmt
    seen = Image.open(io.BytesIO(requests.get(server.url + chair["picture"].lstrip("/"), timeout=10).content))
    assert np.array_equal(np.asarray(seen), np.asarray(picture))  # the cut-out the model saw


def test_download_is_the_file_the_cli_writes(chair, server, tmp_path, capsys):
    from vitocc.cli import main

    out = tmp_path / "chair.glb"
    with pytest.raises(SystemExit) as exit_info:
        main(["reconstruct", str(EXAMPLES / "chair.png"), "-o", str(out), "--threshold", FAST["threshold"],
              "--resolution", FAST["resolution"], "--upsampling", FAST["upsampling"]])
    assert exit_info.value.code == 0, capsys.readouterr().err
    answer = requests.get(server.url + chair["downloads"]["glb"].lstrip("/"), timeout=30)
    assert answer.content == out.read_bytes()


def test_grey_and_background_settings_are_the_cli_options(server, tmp_path, capsys):
    """colour=0 is --no-colour (the GLB is the CLI's), cut_background=0 is --keep-background (the picture
    the model saw is the whole frame); by default the mesh has the picture's colours."""
    import trimesh

    from vitocc.cli import main
    from vitocc.generation import load_image

    out = tmp_path / "grey.glb"
    with pytest.raises(SystemExit) as exit_info:
        main(["reconstruct", str(EXAMPLES / "chair.png"), "-o", str(out), "--no-colour", "--resolution",
              FAST["resolution"], "--upsampling", FAST["upsampling"], "--threshold", FAST["threshold"]])
    assert exit_info.value.code == 0, capsys.readouterr().err
    grey = upload(server, EXAMPLES / "chair.png", **FAST, colour="0").json()
    coloured = upload(server, EXAMPLES / "chair.png", **FAST).json()
    assert grey["settings"]["colour"] is False and coloured["settings"]["colour"] is True
    grey_glb = requests.get(server.url + grey["downloads"]["glb"].lstrip("/"), timeout=30).content
    assert grey_glb == out.read_bytes()
    glb = requests.get(server.url + coloured["downloads"]["glb"].lstrip("/"), timeout=30).content
    colours = trimesh.load(io.BytesIO(glb), file_type="glb", force="mesh").visual.vertex_colors[:, :3]
    assert len(np.unique(colours, axis=0)) > 50  # the picture's colours, not one grey

    # A picture on a gradient: cut out by default, kept whole with cut_background=0.
    ramp = np.linspace(60, 220, 200, dtype=np.uint8)
    rgb = np.stack([np.tile(ramp, (200, 1)), np.tile(ramp[:, None], (1, 200)), np.full((200, 200), 140, np.uint8)], -1)
    rgb[60:140, 70:130] = (200, 30, 30)
    Image.fromarray(rgb).save(tmp_path / "gradient.png")
    for cut in (True, False):
        answer = upload(server, tmp_path / "gradient.png", **FAST, cut_background=str(int(cut)))
        assert answer.status_code == 200 and answer.json()["settings"]["cut_background"] is cut
        seen = Image.open(io.BytesIO(requests.get(server.url + answer.json()["picture"].lstrip("/"), timeout=10).content))
        assert np.array_equal(np.asarray(seen), np.asarray(load_image(tmp_path / "gradient.png", cut_background=cut)))
    kept, cut = (np.asarray(load_image(tmp_path / "gradient.png", cut_background=c)) for c in (False, True))
    assert not np.array_equal(kept, cut)


def upload_with_mask(server, picture, mask, **query) -> requests.Response:
    """The page's request with a mask: the picture's bytes, then the mask's."""
    return requests.post(f"{server.url}api/reconstruct", timeout=120, data=picture.read_bytes() + mask.read_bytes(),
                         params={"name": picture.name, "mask_name": mask.name, "mask_size": mask.stat().st_size, **query})


def test_a_mask_is_the_cli_mask_option(server, tmp_path, capsys, monkeypatch):
    from vitocc.generation import load_image

    picture = tmp_path / "chair.png"
    picture.write_bytes((EXAMPLES / "chair.png").read_bytes())
    width, height = Image.open(picture).size
    mask = np.zeros((height, width), np.uint8)
    mask[height // 2:, :] = 255  # the lower half only
    Image.fromarray(mask).save(tmp_path / "lower.png")
    answer = upload_with_mask(server, picture, tmp_path / "lower.png", **FAST)
    assert answer.status_code == 200 and answer.json()["mask"] == "lower.png"
    seen = Image.open(io.BytesIO(requests.get(server.url + answer.json()["picture"].lstrip("/"), timeout=10).content))
    expected = np.asarray(load_image(picture, mask=tmp_path / "lower.png"))
    assert np.array_equal(np.asarray(seen), expected) and not np.array_equal(expected, np.asarray(load_image(picture)))

    Image.new("L", (width, height), 0).save(tmp_path / "black.png")  # no object in it
    Image.new("L", (10, 40), 255).save(tmp_path / "narrow.png")  # not the picture's shape
    (tmp_path / "notes.png").write_text("not a mask")
    for bad in ("black.png", "narrow.png", "notes.png"):
        answer = upload_with_mask(server, picture, tmp_path / bad, **FAST)
        assert answer.status_code == 400
        assert answer.json()["error"] == cli_error(capsys, monkeypatch, picture, "--mask", bad), bad
    answer = requests.post(f"{server.url}api/reconstruct", params={"name": "chair.png", "mask_size": 10**9},
                           data=picture.read_bytes(), timeout=30)
    assert answer.status_code == 400 and answer.json()["error"].startswith("mask_size must be in 0..")


def test_view_is_a_three_js_page_with_the_mesh(server, chair):
    answer = requests.get(server.url + chair["view"].lstrip("/"), timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert "Three.js Authors" in answer.text and "GLTFLoader" in answer.text
    assert "$B64GLTF" not in answer.text  # the mesh went in
    assert "http://" not in answer.text.split("<script>", 1)[0] and "src=\"http" not in answer.text  # offline


@pytest.mark.parametrize("bad", ["notes", "empty", "blank", "bomb"])
def test_bad_pictures_get_the_cli_message(server, bad_pictures, bad, capsys, monkeypatch):
    answer = upload(server, bad_pictures[bad], **FAST)
    assert answer.status_code == 400
    assert answer.json()["error"] == cli_error(capsys, monkeypatch, bad_pictures[bad])


def test_too_large_uploads_are_refused_and_the_server_goes_on(server, bad_pictures):
    answer = upload(server, bad_pictures["huge"])
    assert answer.status_code == 413
    message = answer.json()["error"]
    assert message.startswith("huge.jpg: the file is too large (3.0 MB)") and "at most 3.0 MB" in message
    assert requests.get(f"{server.url}api/settings", timeout=10).status_code == 200


def test_bad_settings_get_the_cli_message(server, capsys, monkeypatch):
    answer = upload(server, EXAMPLES / "chair.png", threshold="1.5")
    assert answer.status_code == 400
    assert answer.json()["error"] == cli_error(capsys, monkeypatch, EXAMPLES / "chair.png", "--threshold", "1.5")
    answer = upload(server, EXAMPLES / "chair.png", resolution="many")
    assert answer.status_code == 400 and answer.json()["error"] == "resolution must be an integer, got 'many'"


def test_other_pages_and_host_names_are_refused(server):
    """A page of another site (its Origin), or one whose name was rebound to 127.0.0.1 (its Host), gets 403."""
    port = server.server_address[1]
    chair = (EXAMPLES / "chair.png").read_bytes()
    rebound = requests.get(server.url, headers={"Host": f"evil.example:{port}"}, timeout=10)
    assert rebound.status_code == 403 and "not 'evil.example:" in rebound.json()["error"]
    posted = requests.post(f"{server.url}api/reconstruct", data=chair, headers={"Origin": "http://evil.example"},
                           timeout=10)
    assert posted.status_code == 403 and posted.json()["error"].startswith("requests from other pages")
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        own = requests.get(f"{server.url}api/settings", headers={"Host": host, "Origin": f"http://{host}"}, timeout=10)
        assert own.status_code == 200, host


def test_parallel_uploads_queue_on_the_one_model(server):
    """Uploads in parallel each get their own result, all the same mesh: they take turns with the one model."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: upload(server, EXAMPLES / "chair.png", **{**FAST, "resolution": "8"}),
                                range(3)))
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert len({answer.json()["id"] for answer in answers}) == 3
    meshes = {requests.get(server.url + answer.json()["downloads"]["ply"].lstrip("/"), timeout=30).content
              for answer in answers}
    assert len(meshes) == 1


def test_old_results_are_forgotten(shipped_model):
    model, cfg = shipped_model
    rec = Reconstructor(model, cfg, keep=2)
    data = (EXAMPLES / "chair.png").read_bytes()
    settings = rec.settings_from({**FAST, "resolution": "8"})
    ids = [rec.reconstruct(data, "../../etc/chair.png", settings).id for _ in range(3)]
    assert rec.result(ids[0]) is None and rec.result(ids[1]).name == "chair.png" and rec.result(ids[2])


def test_a_port_in_use_is_a_user_error(server):
    with pytest.raises(UserError, match=f"cannot serve on 127.0.0.1:{server.server_address[1]}"):
        make_server(server.reconstructor, "127.0.0.1", server.server_address[1])


def test_cli_serves_until_interrupted(tmp_path):
    """`vitocc serve` in its own process: the page answers on the printed address, Ctrl+C stops it."""
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # SIG_DFL: a test run started in the background (CI's `cmd &`) passes SIGINT on ignored
    process = subprocess.Popen([sys.executable, "-m", "vitocc", "serve", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = process.stdout.readline()
        assert line.strip() == f"vitocc serve: http://127.0.0.1:{port}/ (Ctrl+C stops)", process.stderr.read()
        shipped = load_model(None)[1].generation.threshold  # the page starts from the model's own settings
        assert requests.get(f"http://127.0.0.1:{port}/api/settings", timeout=10).json()["settings"]["threshold"] == shipped
        process.send_signal(2)  # SIGINT, as Ctrl+C
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0 and out.strip() == "stopped", err
    finally:
        if process.poll() is None:
            process.kill()
