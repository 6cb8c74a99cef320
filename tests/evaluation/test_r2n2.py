"""R2N2 voxels in the normalised frame: binvox reading, the fitted axis map, voxel IoU of meshes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from vitocc.evaluation import r2n2

R2N2 = Path(__file__).resolve().parents[3] / "shared" / "real-data" / "r2n2-chairs"


def _write_binvox(path: Path, occ_xyz: np.ndarray) -> None:
    """binvox runs (value, count) over the cells with y fastest, then z, then x."""
    flat = occ_xyz.transpose(0, 2, 1).reshape(-1).astype(np.uint8)
    change = np.flatnonzero(np.diff(flat)) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [flat.size]]))
    runs = []
    for start, length in zip(starts, lengths):
        while length > 0:
            runs += [flat[start], min(length, 255)]
            length -= 255
    d = occ_xyz.shape[0]
    header = f"#binvox 1\ndim {d} {d} {d}\ntranslate 0 0 0\nscale 1\ndata\n".encode()
    path.write_bytes(header + bytes(runs))


def _chair_voxels(d: int = 16) -> np.ndarray:
    """A chair of cells, [x, y, z]: seat, a back rest at -x, four legs."""
    occ = np.zeros((d, d, d), bool)
    occ[2:12, 6:8, 3:13] = True  # seat
    occ[2:4, 8:15, 3:13] = True  # back rest at -x
    for x in (2, 10):
        for z in (3, 11):
            occ[x:x + 2, 0:6, z:z + 2] = True
    return occ


def test_binvox_round_trip(tmp_path):
    occ = _chair_voxels()
    _write_binvox(tmp_path / "model.binvox", occ)
    assert np.array_equal(r2n2.read_binvox(tmp_path / "model.binvox"), occ)
    (tmp_path / "bad.binvox").write_bytes(b"#binvox 1\ndim 4 4 4\ndata\n\x01\x05")
    with pytest.raises(ValueError, match="5 voxels for dims"):
        r2n2.read_binvox(tmp_path / "bad.binvox")


def test_fit_recovers_a_known_frame_from_silhouettes():
    occ = _chair_voxels()
    truth = r2n2.VoxelFrame(((1, 0, 0), (0, 1, 0), (0, 0, 1)), 1, 0.0, 2.2)
    views = [r2n2.View(az, 28.0, 0.0, 0.85, 25.0) for az in (20.0, 110.0, 250.0)]
    placement = r2n2.GridPlacement.of(occ, np.eye(3))
    masks = [r2n2.silhouette(placement.to_frame(np.argwhere(occ) + 0.5), v, truth) for v in views]
    rotated = np.rot90(occ, k=1, axes=(0, 2))  # the same chair turned 90 degrees about y
    frame, score = r2n2.fit_voxel_frame(rotated, views, masks)
    assert score > 0.95
    back = r2n2.GridPlacement.of(rotated, np.array(frame.rotation, float))
    # the fitted rotation puts the back rest at -x again, legs down
    points = back.to_frame(np.argwhere(rotated) + 0.5)
    top = points[points[:, 1] > 0.3]
    assert top[:, 0].mean() < -0.2 and abs(top[:, 2].mean()) < 0.05 and frame.azimuth_sign == 1


def test_voxelize_mesh_marks_the_cells_a_box_fills():
    occ = np.zeros((8, 8, 8), bool)
    occ[0, 0, 0] = occ[7, 7, 7] = True  # the grid spans the unit cube centred at 0
    placement = r2n2.GridPlacement.of(occ, np.eye(3))
    box = trimesh.creation.box(extents=(0.45, 0.45, 0.45))  # faces inside cells 2 and 5
    got = r2n2.voxelize_mesh(box.vertices, box.faces, placement, 8, np.random.default_rng(0))
    expected = np.zeros((8, 8, 8), bool)
    expected[2:6, 2:6, 2:6] = True
    assert r2n2.voxel_iou(got, expected) == 1.0
    assert not r2n2.voxelize_mesh(np.zeros((0, 3)), np.zeros((0, 3), int), placement, 8,
                                  np.random.default_rng(0)).any()


@pytest.mark.skipif(not R2N2.is_dir(), reason=f"the R2N2 sample is not at {R2N2}")
def test_real_r2n2_voxels_sit_in_the_normalised_frame_as_fitted():
    """All six chairs pick the identity axis map and the renders' azimuth convention."""
    for folder in sorted((R2N2 / "ShapeNetVox32" / "03001627").iterdir())[:2]:
        occ = r2n2.read_binvox(folder / "model.binvox")
        renders = R2N2 / "ShapeNetRendering" / "03001627" / folder.name / "rendering"
        views = r2n2.read_views(renders / "rendering_metadata.txt")
        masks = [r2n2.picture_mask(np.array(Image.open(renders / f"{i:02d}.png"))) for i in (0, 7, 13, 19)]
        frame, score = r2n2.fit_voxel_frame(occ, [views[i] for i in (0, 7, 13, 19)], masks)
        assert frame.rotation == r2n2.R2N2_ROTATION and frame.azimuth_sign == 1
        assert score > 0.75
        placement = r2n2.GridPlacement.of(occ, np.array(frame.rotation, float))
        points = placement.to_frame(np.argwhere(occ) + 0.5)
        top = points[points[:, 1] > points[:, 1].max() - 0.15]
        assert top[:, 0].mean() < -0.1  # the back rest at -x: chairs face +x, as in the ONet data
