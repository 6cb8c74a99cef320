"""From a logit lattice to a closed triangle mesh, and the optional post-processing steps.

Marching cubes is scikit-image's, whose vertices sit exactly on lattice indices (the
paper's library shifts them by half a voxel and then removes the shift again): vertex
index i maps to (i / R - 0.5) * (1 + padding), the same formula as the queried points.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from vitocc.mesh import Mesh

FieldFn = Callable[[torch.Tensor], torch.Tensor]
"""`field_fn(points (N,3) float32) -> logits (N,)` of one shape, differentiable in the points."""

OUTSIDE = -1e6  # logit written around the lattice so that every surface is closed
CAP_OFFSET = 0.01  # where the closing cap sits beyond the outermost lattice plane, in voxels


def marching_cubes(values: np.ndarray, threshold_logit: float, padding: float) -> Mesh:
    """The iso-surface `values == threshold_logit` of a (R+1, R+1, R+1) logit lattice.

    Values above the threshold are inside; faces are wound so their normals point outward
    (positive volume). The lattice is padded with outside values, so the mesh is closed even
    where the object touches the box (see `_pad_outside`). No crossing gives an empty mesh.
    """
    from skimage.measure import marching_cubes as skimage_mc

    values = np.asarray(values, dtype=np.float32)
    res = values.shape[0] - 1
    lower, upper = _inside_box(values > threshold_logit)
    if lower is None:
        return Mesh.empty()
    padded = _pad_outside(values[tuple(slice(lo, hi + 1) for lo, hi in zip(lower, upper))], threshold_logit)
    vertices, faces, _, _ = skimage_mc(padded, level=threshold_logit, gradient_direction="ascent")
    vertices = ((vertices.astype(np.float64) + (lower - 1.0)) / res - 0.5) * (1.0 + padding)
    return Mesh(vertices, faces)


def _inside_box(inside: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Lower and upper lattice corners (3,) int of the inside points (R+1, R+1, R+1) bool, one point wider on
    each side within the lattice; (None, None) when nothing is inside.

    Every cell the surface crosses has an inside corner, so marching cubes on this box (a quarter of
    the lattice or less for one object) gives the whole lattice's faces, in the same order: its
    sides inside the lattice are planes of outside points, whose padding adds no face.
    """
    ranges = [np.flatnonzero(inside.any(axis=other)) for other in ((1, 2), (0, 2), (0, 1))]
    if len(ranges[0]) == 0:
        return None, None
    size = inside.shape[0] - 1
    return np.array([max(r[0] - 1, 0) for r in ranges]), np.array([min(r[-1] + 1, size) for r in ranges])


def _pad_outside(values: np.ndarray, threshold_logit: float) -> np.ndarray:
    """values with one layer of outside points around them.

    A constant -1e6 (the reference's choice) puts cap vertices within ~1e-6 voxel of the
    lattice points, where later vertex merging (any mesh reload) collapses triangles and
    breaks watertightness. Each face point is instead set so that its edge to the inside
    crosses the threshold CAP_OFFSET voxel outside the lattice.
    """
    padded = np.pad(values, 1, mode="constant", constant_values=OUTSIDE)
    inner = (slice(1, -1),) * 2
    for axis in range(3):
        for side, pad_index in ((0, 0), (-1, -1)):
            border = np.take(values, side, axis=axis)
            cap = np.where(border > threshold_logit, border - (border - threshold_logit) / CAP_OFFSET, OUTSIDE)
            index = list(inner)
            index.insert(axis, pad_index)
            padded[tuple(index)] = cap
    return padded


def _gradient(field_fn: FieldFn, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits (N,) and their gradient (N,3) at `points`, with a graph for second derivatives."""
    points = points.detach().requires_grad_(True) if not points.requires_grad else points
    logits = field_fn(points)
    (grad,) = torch.autograd.grad(logits.sum(), points, create_graph=True)
    return logits, grad


def field_normals(vertices: np.ndarray, field_fn: FieldFn, device: torch.device | str = "cpu",
                  chunk: int = 100_000) -> np.ndarray:
    """Unit outward normals (V,3) float64: minus the normalised gradient of the logits.

    Smoother than face normals of a 128^3 marching-cubes mesh, for shading and exports.
    """
    out = []
    with torch.inference_mode(False), torch.enable_grad():
        for part in torch.from_numpy(np.asarray(vertices, dtype=np.float32)).split(chunk):
            _, grad = _gradient(field_fn, part.to(device))
            out.append(torch.nn.functional.normalize(-grad.detach(), dim=1).cpu())
    return torch.cat(out).double().numpy() if out else np.zeros((0, 3))


def refine(mesh: Mesh, field_fn: FieldFn, threshold: float, steps: int,
           device: torch.device | str = "cpu", seed: int = 0) -> Mesh:
    """The paper's refinement: move vertices so that the surface follows the field.

    Each step samples one random point per face (Dirichlet(0.5) barycentric weights) and
    minimises (sigmoid(logit) - threshold)^2 plus 0.01 * |face normal - field normal|^2
    with RMSprop (lr 1e-4) over the vertex positions. Topology is unchanged.
    """
    if steps <= 0 or len(mesh.faces) == 0:
        return mesh
    faces = torch.from_numpy(np.asarray(mesh.faces, dtype=np.int64)).to(device)
    vertices = torch.nn.Parameter(torch.tensor(mesh.vertices, dtype=torch.float32, device=device))
    optimizer = torch.optim.RMSprop([vertices], lr=1e-4)
    dirichlet = torch.distributions.Dirichlet(torch.full((3,), 0.5))
    # Dirichlet sampling has no generator argument: a forked, seeded RNG keeps runs reproducible.
    with torch.random.fork_rng(devices=[]), torch.inference_mode(False), torch.enable_grad():
        torch.manual_seed(seed)
        for _ in range(steps):
            corners = vertices[faces]  # (F, 3, 3)
            weights = dirichlet.sample((len(faces),)).to(device)  # (F, 3) barycentric
            points = (corners * weights[:, :, None]).sum(1)
            normal = torch.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 1], dim=1)
            normal = normal / (normal.norm(dim=1, keepdim=True) + 1e-10)
            logits, grad = _gradient(field_fn, points)
            target = torch.nn.functional.normalize(-grad, dim=1, eps=1e-10)
            loss = (torch.sigmoid(logits) - threshold).pow(2).mean()
            loss = loss + 0.01 * (normal - target).pow(2).sum(1).mean()
            # Gradient for the vertices only: nothing accumulates in the model's parameters.
            (vertices.grad,) = torch.autograd.grad(loss, [vertices])
            optimizer.step()
    return Mesh(vertices.detach().cpu().double().numpy(), mesh.faces)


def simplify(mesh: Mesh, n_faces: int) -> Mesh:
    """Quadric edge-collapse (libigl qslim) down to at most `n_faces` faces.

    Meshes already small enough are returned unchanged. Closed inputs stay closed.
    """
    import igl

    if len(mesh.faces) <= n_faces:
        return mesh
    vertices = np.asfortranarray(mesh.vertices, dtype=np.float64)
    faces = np.asfortranarray(mesh.faces, dtype=np.int32)
    out_vertices, out_faces, _, _ = igl.qslim(vertices, faces, int(n_faces))
    return Mesh(out_vertices, out_faces)
