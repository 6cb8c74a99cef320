"""Mesh files: the numpy OBJ writer and the fast OBJ reader against trimesh, and the block parser's
limits (the other formats' writing is tested in tests/generation)."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from vitocc.mesh import Mesh
from vitocc.mesh_io import _fixed_text, _parse_coordinates, _read_triangle_obj, load_mesh, obj_bytes, save_mesh


def _meshes() -> dict[str, Mesh]:
    """Meshes as vitocc makes them (float32 vertices in the unit box, 5-digit indices), with vertex
    colours, with vertex normals, with both, and one with large and negative coordinates."""
    rng = np.random.default_rng(0)
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=0.4)  # 10242 vertices: 5-digit indices
    vertices = (sphere.vertices + [0.1, -0.05, 0.0]).astype(np.float32).astype(np.float64)
    rgba = np.c_[rng.integers(0, 256, (len(vertices), 3)), np.full(len(vertices), 255)].astype(np.uint8)
    normals = vertices / np.linalg.norm(vertices, axis=1, keepdims=True)
    box = trimesh.creation.box((3e4, 2.0, 1e-9))
    box.vertices[0] = [-0.0, 123456789.123, -1e-10]
    return {"plain": Mesh(vertices, sphere.faces),
            "coloured": Mesh(vertices, sphere.faces, vertex_colours=rgba),
            "normals": Mesh(vertices, sphere.faces, vertex_normals=normals),
            "both": Mesh(vertices, sphere.faces, vertex_normals=normals, vertex_colours=rgba),
            "large": Mesh(box.vertices, box.faces)}


def test_obj_writer_writes_the_lines_trimesh_writes():
    for name, mesh in _meshes().items():
        theirs = mesh.to_trimesh().export(file_type="obj").splitlines()
        assert theirs[0].startswith("#")  # trimesh's header comment, which vitocc does not write
        assert obj_bytes(mesh).decode().splitlines() == [line for line in theirs[1:] if line], name
    assert "\nvn " not in obj_bytes(_meshes()["plain"]).decode()
    assert "\nvn " in obj_bytes(_meshes()["normals"]).decode()


def test_obj_files_read_back_as_trimesh_export_reads_back(tmp_path):
    for name, mesh in _meshes().items():
        ours, theirs = tmp_path / "ours.obj", tmp_path / "theirs.obj"
        save_mesh(mesh, ours)
        mesh.to_trimesh().export(theirs)
        a, b = (trimesh.load(p, force="mesh", process=False) for p in (ours, theirs))
        assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.faces, b.faces), name
        assert len(a.vertices) == len(mesh.vertices) and np.array_equal(a.faces, mesh.faces), name
        assert np.abs(a.vertices - mesh.vertices).max() <= 5e-9 * max(1.0, np.abs(mesh.vertices).max()), name
        assert a.visual.kind == b.visual.kind, name
        if mesh.vertex_colours is not None:
            assert np.array_equal(a.visual.vertex_colors, b.visual.vertex_colors), name
            assert np.array_equal(a.visual.vertex_colors[:, :3], mesh.vertex_colours[:, :3]), name
        for x, y in zip(load_mesh(ours), load_mesh(theirs)):
            assert np.array_equal(x, y), name
    assert [p.name for p in tmp_path.iterdir()] == ["ours.obj", "theirs.obj"]  # no temporary left behind


def test_obj_writer_edge_cases(tmp_path):
    save_mesh(Mesh.empty(), tmp_path / "empty.obj")  # what `vitocc reconstruct` writes when nothing is above the threshold
    assert (tmp_path / "empty.obj").read_text().startswith("#") and load_mesh(tmp_path / "empty.obj")[1].shape == (0, 3)
    triangle = Mesh([[0, 0, 0], [1, 0, 0], [0, 1, 0]], [[0, 1, 2]])
    assert obj_bytes(triangle) == (b"v 0.00000000 0.00000000 0.00000000\nv 1.00000000 0.00000000 0.00000000\n"
                                   b"v 0.00000000 1.00000000 0.00000000\nf 1 2 3\n")
    # what numpy does not write goes to trimesh: not finite, beyond int64 fixed point
    for vertex in ([np.nan, 0, 0], [2e15, 0, 0]):
        odd = Mesh([vertex, [1, 0, 0], [0, 1, 0]], [[0, 1, 2]])
        assert obj_bytes(odd) is None
        save_mesh(odd, tmp_path / "odd.obj")
        assert len(trimesh.load(tmp_path / "odd.obj", force="mesh", process=False).faces) == 1
    with pytest.raises(TypeError, match="takes a vitocc.mesh.Mesh, not Trimesh"):
        save_mesh(trimesh.creation.box(), tmp_path / "box.obj")
    assert not (tmp_path / "box.obj").exists()


def test_fixed_point_text_is_what_percent_8f_writes():
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.uniform(-1, 1, 20_000).astype(np.float32),  # vertices as vitocc makes them
                             np.arange(-2048, 2049) / 512,  # exact half-way decimals: both round half to even
                             rng.uniform(-1, 1, 20_000) * 10.0 ** rng.integers(-12, 15, 20_000),
                             [0.0, -0.0, 9.999999995, 0.999999996, 5e-9, -5e-9, 99_999_999.99999999]])
    text = _fixed_text(values[:, None])[:, 0]
    ours = [bytes(row[row != 0]).decode() for row in text]
    python = [f"{x:.8f}" for x in values]
    assert np.all(np.abs(np.array(ours, float) - values) <= 5.0001e-9 + 2.3e-16 * np.abs(values))
    different = [(a, b) for a, b in zip(ours, python) if a != b]
    assert len(different) <= 2, different  # a product rounded onto a half-way case: last digit, 1e-8


def test_mesh_reader_fast_path_matches_trimesh(tmp_path):
    import trimesh

    box = trimesh.creation.box(extents=(0.3, 0.2, 0.1))
    plain, with_normals = tmp_path / "plain.obj", tmp_path / "normals.obj"
    box.export(plain)
    box.export(with_normals, include_normals=True)
    assert "//" in with_normals.read_text()
    quad = tmp_path / "quad.obj"
    quad.write_text("v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n")  # a polygon: trimesh reads it
    for path in (plain, with_normals):
        vertices, faces = load_mesh(path)
        assert np.allclose(vertices, box.vertices) and np.array_equal(faces, box.faces)
    vertices, faces = load_mesh(quad)
    assert len(vertices) == 4 and len(faces) == 2
    empty = tmp_path / "empty.obj"
    empty.write_text("# empty mesh: nothing was above the threshold\n")
    assert load_mesh(empty)[1].shape == (0, 3)


def test_block_obj_parser_reads_what_mise_writes_and_declines_the_rest(tmp_path):
    import trimesh

    # trimesh's 8-decimal coordinates are read as scaled integers: exactly the doubles of a float parse
    text = " ".join(f"{x:.8f}" for x in np.random.default_rng(0).uniform(-50, 50, 3000)).encode()
    assert np.array_equal(_parse_coordinates(text), np.array([float(t) for t in text.split()]))
    assert np.array_equal(_parse_coordinates(b"0.5\n-1 2e-3"), [0.5, -1, 0.002])  # other formats: floats
    assert _parse_coordinates(b"1.12345678.12345678 2") is None
    for junk in (b"1 2 x", b"1 nan 2", b"1 2..5 3", b"1 --2"):  # letters, or a token numpy stops at
        assert _parse_coordinates(junk) is None
    sphere = trimesh.creation.icosphere(subdivisions=2)
    vertices, faces = _read_triangle_obj(sphere.export(file_type="obj").encode())  # header, v block, f block
    assert np.allclose(vertices, sphere.vertices, atol=1e-8) and np.array_equal(faces, sphere.faces)
    crlf = b"# c\r\nv 0 0 0\r\nv 1 0 0\r\nv 0 1 0\r\nf 1/4/1 2/5/2 3/6/3\r\n"
    vertices, faces = _read_triangle_obj(crlf)
    assert vertices.shape == (3, 3) and faces.tolist() == [[0, 1, 2]]
    for declined in (b"v 0 0 0\n# note\nv 1 0 0\nv 0 1 0\nf 1 2 3\n",  # another line among the vertices
                     b"v 0 0 0 1 1 1\nv 1 0 0 1 1 1\nv 0 1 0 1 1 1\nf 1 2 3\n",  # vertex colours
                     b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n",  # index past the vertices
                     b"f 1 2 3\nv 0 0 0\nv 1 0 0\nv 0 1 0\n"):  # faces first
        assert _read_triangle_obj(declined) is None
