"""The ShapeNet-layout reader and loaders, on box data sets written in the real layout."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from box_data import inside_boxes, write_box_dataset
from vitocc.config import DataConfig
from vitocc.data import cameras, layout
from vitocc.data.dataset import ShapeNetDataset
from vitocc.data.loader import EpochSampler, build_loader, take_broken
from vitocc.data.transforms import image_to_tensor, jitter_points, subsample_points
from vitocc.errors import UserError

CPU = torch.device("cpu")


def _cfg(**kw) -> DataConfig:
    return DataConfig(**{"img_size": 32, "n_views": 3, "points_subsample": 256, **kw})


def test_item_fields_shapes_and_ground_truth(box_dataset):
    data = ShapeNetDataset(box_dataset, "train", _cfg(), fields=("points", "points_iou", "inputs", "pointcloud"),
                           train=True)
    assert len(data) == 4 and data.classes == {"03001627": "chair", "04379243": "table"}
    item = data[0]
    assert item["points"].shape == (256, 3) and item["points"].dtype == torch.float32
    assert item["points.occ"].shape == (256,)
    assert item["points_iou"].shape == (4096, 3) and item["pointcloud"].shape == (4096, 3)
    assert item["pointcloud.normals"].shape == (4096, 3)
    assert item["inputs"].shape == (3, 32, 32)
    assert item["class_id"] == "03001627" and item["model_id"] == "627model00" and item["index"] == 0
    boxes = np.load(box_dataset / "03001627" / "627model00" / "boxes.npy")
    for key in ("points", "points_iou"):
        pts = item[key].numpy()
        assert np.abs(pts).max() < 0.551
        agree = inside_boxes(pts, boxes) == item[f"{key}.occ"].numpy().astype(bool)
        assert agree.mean() > 0.995  # only float16 rounding + 1e-4 jitter at the surface may flip
    raw, _ = layout.read_points_npz(box_dataset / "03001627" / "627model00" / "points.npz")
    noise = item["points_iou"].numpy() - raw
    assert 0 < np.abs(noise).max() < 1e-3 and abs(noise.std() - 1e-4) < 2e-5


def test_training_draws_random_views_evaluation_uses_test_view(box_dataset):
    train = ShapeNetDataset(box_dataset, "train", _cfg(), fields=("inputs",), train=True)
    views = {round(train[(0, seed)]["inputs"].sum().item(), 2) for seed in range(12)}
    assert len(views) == 3  # all three rendered views appear
    assert torch.equal(train[(0, 5)]["inputs"], train[(0, 5)]["inputs"])  # seeded

    val = ShapeNetDataset(box_dataset, "val", _cfg(test_view=0), fields=("inputs", "points"))
    image = Image.open(box_dataset / val.shapes[0].folder / "img_choy2016" / "000.jpg")
    expected = image_to_tensor(image, 32, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    assert torch.equal(val[0]["inputs"], expected)
    assert torch.equal(val[0]["points"], val[(0, 99)]["points"])  # evaluation items are fixed


def test_image_to_tensor_normalises_with_given_statistics():
    white = Image.new("RGB", (137, 137), (255, 255, 255))
    t = image_to_tensor(white, 64, (0.5, 0.5, 0.5), (0.25, 0.5, 1.0))
    assert t.shape == (3, 64, 64)
    torch.testing.assert_close(t[:, 0, 0], torch.tensor([2.0, 1.0, 0.5]))
    gray = image_to_tensor(Image.new("L", (10, 10), 0), 16, (0, 0, 0), (1, 1, 1))
    assert gray.shape == (3, 16, 16) and gray.abs().max() == 0


def test_cameras_project_the_surface_onto_the_object_in_the_image(box_dataset):
    data = ShapeNetDataset(box_dataset, "test", _cfg(test_view=1), fields=("cameras", "pointcloud"))
    item = data[0]
    image = np.asarray(Image.open(data.shapes[0].folder / "img_choy2016" / "001.jpg").convert("L"))
    pix, depth = cameras.project(item["pointcloud"].numpy(), item["inputs.world_mat"].numpy().astype(np.float64),
                                 item["inputs.camera_mat"].numpy().astype(np.float64),
                                 item["inputs.loc"].numpy(), float(item["inputs.scale"]))
    cols, rows = np.round(pix).astype(int).T
    assert (depth > 0).all() and cols.min() >= 0 and rows.max() < 137
    assert (image[rows, cols] < 240).mean() > 0.95  # surface lands on the object, not the white background


def test_class_filter_by_name_or_id_and_cap(box_dataset):
    assert len(ShapeNetDataset(box_dataset, "train", _cfg(classes=["Table"]))) == 2
    assert len(ShapeNetDataset(box_dataset, "train", _cfg(classes=["03001627", "table"]))) == 4
    capped = ShapeNetDataset(box_dataset, "train", _cfg(max_models_per_class=1))
    assert [s.model_id for s in capped.shapes] == ["627model00", "243model00"]
    with pytest.raises(UserError, match="class 'sofa' is not in"):
        ShapeNetDataset(box_dataset, "train", _cfg(classes=["sofa"]))
    with pytest.raises(UserError, match="does not exist"):
        ShapeNetDataset(box_dataset / "nope", "train", _cfg())


def test_missing_metadata_falls_back_to_folder_names(tmp_path):
    root = write_box_dataset(tmp_path / "data", {"04379243": "table"}, models_per_class=4, n_points=512, n_views=1)
    (root / "metadata.yaml").unlink()
    data = ShapeNetDataset(root, "train", _cfg(classes=["table"], n_views=24))
    assert data.classes == {"04379243": "table"}
    assert data[(0, 3)]["inputs"].shape == (3, 32, 32)  # only view 000 exists: used for every draw


@pytest.fixture
def broken_dataset(tmp_path):
    root = write_box_dataset(tmp_path / "data", {"03001627": "chair"}, models_per_class=8, n_points=512, n_views=1)
    bad = root / "03001627" / "627model01" / "points.npz"
    bad.write_bytes(bad.read_bytes()[:300])  # truncated download
    return root, bad


@pytest.mark.parametrize("num_workers", [0, 1])
def test_corrupt_points_file_is_a_user_error_naming_it(broken_dataset, num_workers):
    root, bad = broken_dataset
    data = ShapeNetDataset(root, "train", _cfg(n_views=1), train=True)
    with pytest.raises(UserError, match=f"cannot read {bad}"):
        data[1]
    loader = build_loader(data, 2, shuffle=False, num_workers=num_workers, device=CPU, seed=0)
    with pytest.raises(UserError, match=f"cannot read {bad}") as info:
        for batch in loader:
            take_broken(batch, skip_broken=False)
    assert "Traceback" not in str(info.value)


def test_skip_broken_drops_and_counts(broken_dataset):
    root, bad = broken_dataset
    data = ShapeNetDataset(root, "train", _cfg(n_views=1, skip_broken=True), train=True)
    loader = build_loader(data, 4, shuffle=False, num_workers=0, device=CPU, seed=0)
    broken, sizes = [], []
    for batch in loader:
        broken += take_broken(batch, skip_broken=True)
        sizes.append(len(batch["model_id"]))
    assert sizes == [3] and len(broken) == 1 and str(bad) in broken[0]


def test_missing_image_is_named(tmp_path):
    root = write_box_dataset(tmp_path / "data", {"03001627": "chair"}, models_per_class=4, n_points=512, n_views=2)
    shutil.rmtree(root / "03001627" / "627model00" / "img_choy2016")
    data = ShapeNetDataset(root, "train", _cfg(n_views=2), train=True)
    with pytest.raises(UserError, match="no images 000.jpg... in .*627model00/img_choy2016"):
        data[0]
    val = ShapeNetDataset(root, "train", _cfg(n_views=2))
    with pytest.raises(UserError, match="missing file .*627model00/img_choy2016/000.jpg"):
        val[0]


def _stream(loader, epoch, skip=0):
    loader.sampler.set_epoch(epoch, skip)
    return [(b["model_id"], b["points"]) for b in loader]


def test_loader_stream_depends_on_seed_and_epoch_not_on_workers(tmp_path):
    root = write_box_dataset(tmp_path / "data", {"03001627": "chair"}, models_per_class=12, n_points=512, n_views=2)
    data = ShapeNetDataset(root, "train", _cfg(n_views=2), train=True)
    serial = build_loader(data, 2, shuffle=True, num_workers=0, device=CPU, seed=3)
    parallel = build_loader(data, 2, shuffle=True, num_workers=2, device=CPU, seed=3)
    a, b = _stream(serial, 0), _stream(parallel, 0)
    assert len(a) == 3  # 6 training shapes, batches of 2
    for (ids_a, pts_a), (ids_b, pts_b) in zip(a, b):
        assert ids_a == ids_b and torch.equal(pts_a, pts_b)
    epoch1 = _stream(serial, 1)
    assert [ids for ids, _ in epoch1] != [ids for ids, _ in a]
    resumed = _stream(serial, 1, skip=2)  # resume after 1 batch of epoch 1
    assert len(resumed) == 2 and all(torch.equal(x[1], y[1]) for x, y in zip(resumed, epoch1[1:]))


def test_epoch_sampler_shards_cover_the_epoch():
    shards = [list(EpochSampler(10, shuffle=True, seed=1, rank=r, world_size=3)) for r in range(3)]
    assert all(len(s) == 4 for s in shards)  # padded to 12
    assert {i for s in shards for i, _ in s} == set(range(10))
    evaluation = [list(EpochSampler(10, shuffle=False, rank=r, world_size=3)) for r in range(3)]
    assert sorted(i for s in evaluation for i, _ in s) == list(range(10))  # each once, no padding


def _distance_to_boxes(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Distance (N,) of points to the nearest box (outside) or to the nearest face of the box they
    are in: the distance to the surface for one box, a close stand-in for a union of a few."""
    outside = np.maximum(np.maximum(boxes[None, :, 0] - points[:, None], points[:, None] - boxes[None, :, 1]), 0)
    to_box = np.sqrt((outside**2).sum(2))  # (N, b), 0 inside the box
    inside_gap = np.minimum(points[:, None] - boxes[None, :, 0], boxes[None, :, 1] - points[:, None]).min(2)
    return np.where(to_box > 0, to_box, inside_gap).min(1)


def test_surface_fraction_draws_that_share_near_the_surface_and_keeps_labels(box_dataset):
    uniform = ShapeNetDataset(box_dataset, "train", _cfg(points_subsample=2000), fields=("points",), train=True)
    near = ShapeNetDataset(box_dataset, "train", _cfg(points_subsample=2000, surface_fraction=0.5, surface_band=0.03),
                           fields=("points",), train=True)
    boxes = np.load(box_dataset / "03001627" / "627model00" / "boxes.npy")
    shares = []
    for data in (uniform, near):
        item = data[(0, 7)]
        pts = item["points"].numpy()
        assert (inside_boxes(pts, boxes) == item["points.occ"].numpy().astype(bool)).mean() > 0.99
        shares.append((_distance_to_boxes(pts, boxes) < 0.03 + 0.01).mean())  # + pointcloud spacing
    base = shares[0]
    assert base < 0.3 and shares[1] > 0.5 + 0.5 * base - 0.05  # half drawn near, plus the uniform half's share
    # fraction 0 is the paper's stream: uniform draws, then jitter, from the item's seed
    rng = np.random.default_rng(3)
    raw, occ = layout.read_points_npz(uniform.shapes[1].folder / "points.npz", dtype=None)
    expected = jitter_points(*subsample_points(raw, occ, 2000, rng)[:1], 1e-4, rng)
    assert np.array_equal(uniform[(1, 3)]["points"].numpy(), expected)
    evaluation = ShapeNetDataset(box_dataset, "val", _cfg(surface_fraction=1.0), fields=("points",))
    assert torch.equal(evaluation[0]["points"], ShapeNetDataset(box_dataset, "val", _cfg(), fields=("points",))[0]["points"])

