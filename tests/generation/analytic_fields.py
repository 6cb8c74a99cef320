"""Analytic occupancy fields for the generation tests: logits = -K * signed distance (inside > 0).

Import as `from analytic_fields import ...` (pytest puts this folder on sys.path)."""

from __future__ import annotations

import torch

K = 50.0  # logits = -K * sdf, as the reference cross-checks; threshold 0.2 puts the surface at sdf = 0.0277

# The oracle's chair_a (unit cube, y up): seat, four legs, back rest; [min corner, max corner] per box.
CHAIR_BOXES = torch.tensor([
    [[-0.25, -0.11, -0.25], [0.25, -0.05, 0.25]],
    [[-0.25, -0.5, -0.25], [-0.19, -0.11, -0.19]],
    [[-0.25, -0.5, 0.19], [-0.19, -0.11, 0.25]],
    [[0.19, -0.5, -0.25], [0.25, -0.11, -0.19]],
    [[0.19, -0.5, 0.19], [0.25, -0.11, 0.25]],
    [[-0.25, -0.05, -0.25], [0.25, 0.45, -0.19]],
], dtype=torch.float64)


def box_sdf(points: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Signed distance (N,) float64 to the union of axis-aligned boxes (n, 2, 3)."""
    centre, half = (boxes[:, 0] + boxes[:, 1]) / 2, (boxes[:, 1] - boxes[:, 0]) / 2
    q = (points.double()[:, None, :] - centre).abs() - half
    return (q.clamp(min=0).norm(dim=2) + q.max(2).values.clamp(max=0)).min(1).values


def sphere_sdf(points: torch.Tensor, centre, radius: float) -> torch.Tensor:
    return (points.double() - torch.tensor(centre, dtype=torch.float64)).norm(dim=1) - radius


def as_logits(sdf: torch.Tensor) -> torch.Tensor:
    return (-K * sdf).float()


FIELDS = {
    "sphere": lambda p: as_logits(sphere_sdf(p, (0.03, -0.02, 0.01), 0.3)),
    "box": lambda p: as_logits(box_sdf(p, torch.tensor([[[-0.2, -0.3, -0.1], [0.2, 0.3, 0.1]]], dtype=torch.float64))),
    "thin_plate": lambda p: as_logits(box_sdf(p, torch.tensor([[[-0.4, -0.01, -0.3], [0.4, 0.01, 0.3]]], dtype=torch.float64))),
    "two_blobs": lambda p: as_logits(torch.minimum(sphere_sdf(p, (-0.3, 0.0, 0.0), 0.1), sphere_sdf(p, (0.3, 0.1, 0.05), 0.12))),
    "chair": lambda p: as_logits(box_sdf(p, CHAIR_BOXES)),
}
