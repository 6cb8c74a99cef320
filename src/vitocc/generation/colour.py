"""Vertex colours from the picture: what the camera saw is projected onto the mesh, the rest is filled.

A mesh vertex is *seen* when, under the picture's camera P (3, 4) (normalised-frame points to
(u w, v w, w) with (u, v) in [-1, 1] across the picture, `vitocc.models.projection`), its
surface faces the camera, nothing of the mesh lies between it and the camera (one ray per
vertex, cast with Embree as `vitocc.render` does), and it projects onto the object in the
picture (not onto the background around a slightly misplaced silhouette). Seen vertices take
the picture's colour (bilinear) where they project. Hidden vertices take the colour of the
seen vertices nearest to their mirror image across the plane z = centre (the objects' left-right
symmetry plane in the data's frame: objects face +x, y is up) when the mesh itself is mirror
symmetric and the mirror image has a seen vertex close by; otherwise the colour of the seen
vertices nearest to them.

The camera: a pixel-aligned model predicts it (`ShapeCode.projection`). A global-code model
does not; for it `fit_view` searches the render framing (elevation 27.5 degrees, the data's
distance, azimuth in 10-degree steps) for the view whose silhouette of the mesh best overlaps
the object in the picture, and aligns the two silhouettes' boxes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image

from vitocc.generation.images import BACKGROUND_TOLERANCE
from vitocc.mesh import Mesh
from vitocc.rays import first_hits

GREY = (178, 178, 178)  # the colour of a mesh nothing of which was seen (render.DEFAULT_COLOR in 8 bits)
# Cosine between a vertex normal and the way to the camera below which a vertex counts as unseen: grazing
# surfaces land on the silhouette's pale, half-background pixels, and the fill would spread that colour.
MIN_FACING = 0.3
EDGE_ERODE = 0.01  # share of the picture's side trimmed off the object's mask for sampling (its antialiased rim)
MIRROR_MATCH = 0.02  # normalised units (longest side 1): a mirror image this close to a seen vertex takes its colour
SYMMETRIC_P90 = 0.02  # the mesh is mirror symmetric when 90% of its mirrored vertices lie this close to it
SYMMETRY_SAMPLE = 4096  # about this many vertices (every k-th: 4096-8191) whose mirror images decide it
NEIGHBOURS = 4  # seen vertices averaged (inverse distance) for a hidden one
# The render framing of the data's cameras (docs/design.md section 2), in the normalised frame.
RENDER_ELEVATION_DEG = 27.5
RENDER_DISTANCE = 1.9  # 1.14-1.66 at scale ~0.75
AZIMUTH_STEP_DEG = 10.0
FIT_SIZE = 64  # pixels of the silhouettes compared by fit_view


def picture_mask(rgb: np.ndarray) -> np.ndarray:
    """(H, W) bool: the object in rgb (H, W, 3) uint8 on white, holes filled (white parts inside the object count).

    A hole is background that no 4-connected path joins to the picture's border (scipy's `binary_fill_holes`);
    OpenCV's flood fill finds them without importing scipy.ndimage (0.15-0.2 s of one picture's start-up)."""
    import cv2

    mask = np.abs(rgb.astype(np.int16) - 255).max(axis=2) > BACKGROUND_TOLERANCE
    outside = np.pad(mask, 1).astype(np.uint8)  # a frame of background joins every border pixel
    cv2.floodFill(outside, None, (0, 0), 2, flags=4)
    return outside[1:-1, 1:-1] != 2


def project(points: np.ndarray, projection: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uv (N, 2) in [-1, 1] across the picture and depth w (N,) of points (N, 3) under P (3, 4)."""
    uvw = points @ projection[:, :3].T + projection[:, 3]
    depth = uvw[:, 2]
    return uvw[:, :2] / np.maximum(depth, 1e-6)[:, None], depth


def camera_centre(projection: np.ndarray) -> np.ndarray:
    """The centre (3,) of the camera of P (3, 4): the point P maps to zero."""
    p = np.asarray(projection, np.float64)
    return -np.linalg.solve(p[:, :3], p[:, 3])


def sample(image: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Bilinear values (N, C) float64 of image (H, W, C) at uv (N, 2) in [-1, 1] (grid_sample's convention,
    align_corners=False; positions outside are clamped to the border)."""
    h, w = image.shape[:2]
    x = np.clip((uv[:, 0] + 1) * w / 2 - 0.5, 0, w - 1)
    y = np.clip((uv[:, 1] + 1) * h / 2 - 0.5, 0, h - 1)
    x0, y0 = np.minimum(x.astype(int), w - 2 if w > 1 else 0), np.minimum(y.astype(int), h - 2 if h > 1 else 0)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    img = image.astype(np.float64)
    top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    bottom = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def vertex_normals(mesh: Mesh) -> np.ndarray:
    """Unit normals (V, 3) float64: the mesh's own when it carries them (`generation.vertex_normals`), else the
    sum of the adjacent faces' area-weighted normals (3x faster than trimesh's angle-weighted ones on
    marching-cubes meshes of 23-63k vertices, the same to cosine > 0.94 at 99% of the vertices)."""
    if mesh.vertex_normals is not None:
        return mesh.vertex_normals
    vertices, faces = mesh.vertices, mesh.faces
    corners = vertices[faces]
    face = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])  # length: twice the area
    summed = np.stack([np.bincount(faces.ravel(), np.repeat(face[:, k], 3), minlength=len(vertices))
                       for k in range(3)], axis=1)
    return summed / np.maximum(np.linalg.norm(summed, axis=1, keepdims=True), 1e-12)


def seen_vertices(mesh: Mesh, projection: np.ndarray) -> np.ndarray:
    """(V,) bool: vertices whose surface faces the camera of P (3, 4), inside the picture, with no part of
    the mesh between them and the camera (`vertex_colours` then checks that they land on the object)."""
    vertices = mesh.vertices
    normals = vertex_normals(mesh)
    to_camera = camera_centre(projection) - vertices
    distance = np.linalg.norm(to_camera, axis=1)
    to_camera /= np.maximum(distance, 1e-12)[:, None]
    facing = np.einsum("ij,ij->i", normals, to_camera) > MIN_FACING
    uv, depth = project(vertices, projection)
    seen = facing & (depth > 0) & (np.abs(uv) <= 1).all(axis=1)
    index = np.flatnonzero(seen)
    if len(index):
        # Start just off the surface: a ray from the vertex itself may hit the faces around it.
        step = 1e-3 * max(mesh.scale, 1e-6)
        origins = vertices[index] + step * (to_camera[index] + normals[index])
        blocked = first_hits(vertices, mesh.faces, origins, to_camera[index]) >= 0
        seen[index[blocked]] = False
    return seen


def reflect_z(points: np.ndarray, z: float) -> np.ndarray:
    """points (N, 3) mirrored across the plane at height z along the z axis."""
    return points * np.array([1.0, 1.0, -1.0]) + np.array([0.0, 0.0, 2 * z])


def mirror_plane(vertices: np.ndarray) -> float | None:
    """z of the plane across which vertices (V, 3) are mirror symmetric (the centre of their z range), or None.
    Decided on the mirror images of every k-th vertex, about SYMMETRY_SAMPLE of them (a percentile needs no more)."""
    if len(vertices) < 4:
        return None
    centre = float(vertices[:, 2].min() + vertices[:, 2].max()) / 2
    sample = vertices[::max(1, len(vertices) // SYMMETRY_SAMPLE)]
    distance, _ = _tree(vertices).query(reflect_z(sample, centre), k=1)
    return centre if np.percentile(distance, 90) <= SYMMETRIC_P90 * np.ptp(vertices, axis=0).max() else None


def _tree(points: np.ndarray):
    """A kd-tree (pykdtree) of points (N, 3) float64, queried with float64 points.

    Hidden vertices lie far from the seen ones (median 0.2 on the examples): scipy's cKDTree took
    0.9-1.3 s per 40k such queries here, pykdtree 0.11 s, with the same nearest neighbours.
    """
    from pykdtree.kdtree import KDTree

    return KDTree(np.ascontiguousarray(points, dtype=np.float64))


def fill_hidden(vertices: np.ndarray, colours: np.ndarray, seen: np.ndarray, mirror_z: float | None) -> np.ndarray:
    """Colours (V, 3) float64 with every unseen vertex given a colour from the seen ones.

    vertices (V, 3), colours (V, 3) (only rows where seen (V,) bool count), mirror_z: the symmetry
    plane z (see `mirror_plane`) or None. Hidden vertices whose mirror image lies within MIRROR_MATCH of a
    seen vertex take the colours near the image, the others the colours near themselves (NEIGHBOURS seen
    vertices, inverse-distance weighted). With no seen vertex every colour is GREY.
    """
    out = np.array(colours, dtype=np.float64)
    hidden = np.flatnonzero(~seen)
    if not seen.any():
        out[:] = GREY
        return out
    if len(hidden) == 0:
        return out
    tree = _tree(vertices[seen])
    seen_colours = out[seen]
    k = min(NEIGHBOURS, int(seen.sum()))
    queries = vertices[hidden]
    if mirror_z is not None:
        mirrored = reflect_z(queries, mirror_z)
        distance, _ = tree.query(mirrored, k=1)
        scale = np.ptp(vertices, axis=0).max()
        queries = np.where((distance <= MIRROR_MATCH * scale)[:, None], mirrored, queries)
    distance, index = tree.query(np.ascontiguousarray(queries), k=k)
    distance, index = distance.reshape(len(hidden), k), index.reshape(len(hidden), k)
    weight = 1.0 / np.maximum(distance, 1e-6)
    out[hidden] = np.einsum("nk,nkc->nc", weight, seen_colours[index]) / weight.sum(axis=1, keepdims=True)
    return out


def vertex_colours(mesh: Mesh, picture: np.ndarray, projection: np.ndarray,
                   mask: np.ndarray | None = None, mirror: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Colours (V, 3) uint8 of the mesh's vertices from picture (H, W, 3) uint8 seen by P (3, 4), and the
    (V,) bool of the vertices that were seen. `mask` (H, W) bool: the object in the picture
    (default: `picture_mask`); when it would reject nearly every visible vertex it is not used."""
    vertices = mesh.vertices
    if len(vertices) == 0:
        return np.zeros((0, 3), np.uint8), np.zeros(0, bool)
    mask = picture_mask(picture) if mask is None else mask
    visible = seen_vertices(mesh, projection)
    on_object = visible.copy()
    on_object[visible] = sample(mask[..., None].astype(np.float64), project(vertices[visible], projection)[0])[:, 0] > 0.5
    # Nearly no visible vertex on the object: a misplaced camera or an object the mask misses; use them all.
    seen = on_object if on_object.sum() >= 0.05 * visible.sum() else visible
    colours = np.zeros((len(vertices), 3))
    uv, _ = project(vertices[seen], projection)
    inner = _inner(mask)
    inner = inner if inner.any() else mask
    weighted = sample(np.concatenate([picture * inner[..., None], inner[..., None]], axis=2).astype(np.float64), uv)
    plain = sample(picture, uv)
    colours[seen] = np.where(weighted[:, 3:] > 1e-3, weighted[:, :3] / np.maximum(weighted[:, 3:], 1e-3), plain)
    colours = fill_hidden(vertices, colours, seen, mirror_plane(vertices) if mirror else None)
    return np.clip(np.round(colours), 0, 255).astype(np.uint8), seen


def _inner(mask: np.ndarray) -> np.ndarray:
    """mask (H, W) bool without its rim: EDGE_ERODE of the picture's side (at least one pixel) eroded away, one
    4-neighbour cross per pixel (scipy's `binary_erosion` with `iterations`; outside the picture is background).
    Vertices take colours from it, so that one on the silhouette gets the object's colour, not a blend with the
    background."""
    import cv2

    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    steps = max(1, round(EDGE_ERODE * max(mask.shape)))
    eroded = cv2.erode(mask.astype(np.uint8), cross, iterations=steps, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return eroded.astype(bool)


def render_projection(azimuth_deg: float, elevation_deg: float = RENDER_ELEVATION_DEG,
                      distance: float = RENDER_DISTANCE) -> np.ndarray:
    """P (3, 4) of a camera of the render framing (the data's intrinsics, looking at the origin, y up)."""
    from vitocc.data import cameras

    world = cameras.world_matrix(distance, elevation_deg, azimuth_deg)
    return cameras.pixels_to_grid() @ cameras.camera_matrix() @ world


def fit_view(mesh: Mesh, mask: np.ndarray) -> np.ndarray:
    """P (3, 4) for a model without a camera: the render-framing view whose silhouette of the mesh best
    overlaps `mask` (H, W) bool (IoU at FIT_SIZE pixels, after aligning the silhouettes' boxes), followed by
    that alignment. The render framing at azimuth 45 degrees when the mask or the mesh is empty."""
    vertices = mesh.vertices
    target = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((FIT_SIZE, FIT_SIZE), Image.BILINEAR)) > 127
    if len(vertices) == 0 or not target.any():
        return render_projection(45.0)
    rows, cols = np.flatnonzero(target.any(axis=1)), np.flatnonzero(target.any(axis=0))
    box = np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1]) * 2.0 / FIT_SIZE - 1  # in [-1, 1]
    best, best_score = None, -1.0
    for azimuth in np.arange(0.0, 360.0, AZIMUTH_STEP_DEG):
        projection = render_projection(float(azimuth))
        uv, _ = project(vertices, projection)
        align = _box_alignment(uv, box)
        uv = uv * align[0] + align[1:]
        # Marching-cubes vertices are closer than a pixel here, so their projections fill the silhouette.
        pix = np.clip(((uv + 1) * FIT_SIZE / 2).astype(int), 0, FIT_SIZE - 1)
        splat = np.zeros((FIT_SIZE, FIT_SIZE), bool)
        splat[pix[:, 1], pix[:, 0]] = True
        score = (splat & target).sum() / max(1, (splat | target).sum())
        if score > best_score + 1e-9:
            best, best_score = (projection, align), score
    projection, (s, dx, dy) = best
    return np.array([[s, 0, dx], [0, s, dy], [0, 0, 1.0]]) @ projection


def _box_alignment(uv: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(scale, dx, dy) moving the box of uv (N, 2) onto box (left, top, right, bottom), same scale on both axes."""
    low, high = uv.min(axis=0), uv.max(axis=0)
    s = max(box[2] - box[0], box[3] - box[1]) / max(float((high - low).max()), 1e-6)
    centre, target = (low + high) / 2, np.array([box[0] + box[2], box[1] + box[3]]) / 2
    return np.array([s, *(target - s * centre)])


def colour_mesh(mesh: Mesh, picture: Image.Image | np.ndarray, projection: np.ndarray | None,
                mask: np.ndarray | None = None) -> Mesh:
    """The mesh (same vertices, faces and normals) with vertex colours from `picture` (the square picture the
    model saw, PIL or (H, W, 3) uint8) under P (3, 4) (None: `fit_view`). `mask` (H, W) bool: the object
    in the picture, default `picture_mask`. A mesh without faces is returned as it is."""
    if len(mesh.faces) == 0:
        return mesh
    rgb = np.asarray(picture.convert("RGB")) if isinstance(picture, Image.Image) else np.asarray(picture)[..., :3]
    mask = picture_mask(rgb) if mask is None else mask
    if projection is None:
        projection = fit_view(mesh, mask)
    colours, _ = vertex_colours(mesh, rgb, np.asarray(projection, np.float64), mask)
    return replace(mesh, vertex_colours=np.concatenate([colours, np.full((len(colours), 1), 255, np.uint8)], axis=1))

