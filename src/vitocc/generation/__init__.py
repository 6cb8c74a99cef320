"""Meshes from pictures: batched MISE, marching cubes, input pictures, previews, whole splits."""

from vitocc.generation.generate import MESH_FORMATS, MeshInfo, generate_meshes, generate_split, save_mesh
from vitocc.generation.images import load_image, prepare_image
from vitocc.generation.mise import MiseResult, mise
from vitocc.generation.reconstruct import reconstruct_images

__all__ = [
    "mise", "MiseResult", "generate_meshes", "generate_split", "reconstruct_images", "MeshInfo",
    "save_mesh", "MESH_FORMATS", "load_image", "prepare_image",
]
