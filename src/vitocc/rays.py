"""Which rays hit a triangle mesh: Embree (the `embreex` wheel) called directly, so that colouring one
picture's mesh needs no trimesh import; trimesh's numpy intersector where embreex is not installed."""

from __future__ import annotations

import numpy as np


def first_hits(vertices: np.ndarray, faces: np.ndarray, origins: np.ndarray, directions: np.ndarray,
               embree: bool = True) -> np.ndarray:
    """Index (K,) int64 of the first face each ray hits, -1 for a miss.

    vertices (V, 3), faces (F, 3) int; origins and directions (K, 3) (directions need not be unit).
    Embree works in float32, enough for meshes of the normalised frame. `embree=False`, or no embreex
    installed, uses trimesh's pure numpy intersector (10-100x slower). A mesh without faces is missed.
    """
    origins = np.asarray(origins, np.float64).reshape(-1, 3)
    directions = np.asarray(directions, np.float64).reshape(-1, 3)
    if len(faces) == 0 or len(origins) == 0:
        return np.full(len(origins), -1, np.int64)
    if embree:
        try:
            from embreex import mesh_construction, rtcore_scene
        except ImportError:
            embree = False
    if not embree:
        import trimesh
        from trimesh.ray.ray_triangle import RayMeshIntersector

        mesh = trimesh.Trimesh(np.asarray(vertices, np.float64), np.asarray(faces, np.int64), process=False)
        return np.asarray(RayMeshIntersector(mesh).intersects_first(origins, directions), np.int64)
    scene = rtcore_scene.EmbreeScene()
    corners, triangles = np.ascontiguousarray(vertices, np.float32), np.ascontiguousarray(faces, np.int32)
    mesh_construction.TriangleMesh(scene, corners, triangles)
    return np.asarray(scene.run(origins.astype(np.float32), directions.astype(np.float32)), np.int64)
