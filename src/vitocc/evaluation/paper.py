"""Published numbers of the Occupancy Networks paper, for `vitocc compare --paper`.

Single-image 3D reconstruction on ShapeNet (13 classes, view 000, the protocol of
vitocc.metrics), Mescheder et al., CVPR 2019, Table 1, updated ONet model trained without
data augmentation, and the baselines of the same table. Chamfer-L1 is in paper units (x10).
These are PUBLISHED numbers on real ShapeNet: they compare with a run only when the run was
evaluated on the same data and split.
"""

from __future__ import annotations

SOURCE = "Mescheder et al., Occupancy Networks, CVPR 2019, Table 1 (published)"

# class -> (IoU, Chamfer-L1 x10, normal consistency) of ONet
ONET_PER_CLASS: dict[str, tuple[float, float, float]] = {
    "airplane": (0.591, 0.134, 0.845),
    "bench": (0.492, 0.150, 0.814),
    "cabinet": (0.750, 0.153, 0.884),
    "car": (0.746, 0.149, 0.852),
    "chair": (0.530, 0.206, 0.829),
    "display": (0.518, 0.258, 0.857),
    "lamp": (0.400, 0.368, 0.751),
    "loudspeaker": (0.677, 0.266, 0.842),
    "rifle": (0.480, 0.143, 0.783),
    "sofa": (0.693, 0.181, 0.867),
    "table": (0.542, 0.182, 0.860),
    "telephone": (0.746, 0.127, 0.939),
    "vessel": (0.547, 0.201, 0.797),
}
ONET_MEAN = (0.593, 0.194, 0.840)

# method -> its published means over the 13 classes (only the metrics the table reports)
BASELINE_MEANS: dict[str, dict[str, float]] = {
    "3D-R2N2": {"iou": 0.493, "chamfer_l1_x10": 0.278, "normal_consistency": 0.695},
    "Pix2Mesh": {"iou": 0.480, "chamfer_l1_x10": 0.216, "normal_consistency": 0.772},
    "PSGN": {"chamfer_l1_x10": 0.215},
    "AtlasNet": {"chamfer_l1_x10": 0.175, "normal_consistency": 0.811},
}

_KEYS = ("iou", "chamfer_l1_x10", "normal_consistency")


def onet_class(name: str) -> dict[str, float] | None:
    """ONet's published metrics of a class name (None when the paper has no such class)."""
    values = ONET_PER_CLASS.get(name.lower())
    return None if values is None else dict(zip(_KEYS, values))


def published_means(class_names: list[str]) -> dict[str, dict[str, float]]:
    """Published mean rows comparable with a run over `class_names`: method -> metrics.

    With all 13 classes: ONet's and the baselines' published means. With a subset: only
    ONet, as the mean of its published per-class numbers over the classes the paper has
    (the baselines publish no per-class numbers in that table).
    """
    names = {n.lower() for n in class_names}
    if names >= set(ONET_PER_CLASS):
        return {"ONet": dict(zip(_KEYS, ONET_MEAN)), **BASELINE_MEANS}
    known = [ONET_PER_CLASS[n] for n in sorted(names) if n in ONET_PER_CLASS]
    if not known:
        return {}
    return {"ONet": {k: sum(v[i] for v in known) / len(known) for i, k in enumerate(_KEYS)}}
