"""Mesh files: the fast OBJ reader against trimesh, and the block parser's limits (writing is
tested with the formats in tests/generation)."""

from __future__ import annotations

import numpy as np

from vitocc.mesh_io import _parse_coordinates, _read_triangle_obj, load_mesh


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
