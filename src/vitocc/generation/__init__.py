"""Meshes from pictures: batched MISE, marching cubes, input pictures, previews, whole splits."""

from vitocc.generation.generate import MeshInfo, generate_meshes
from vitocc.generation.images import load_image, prepare_image
from vitocc.generation.mise import MiseResult, mise
from vitocc.generation.reconstruct import reconstruct_images
from vitocc.generation.split import generate_split, plan_split
from vitocc.mesh_io import MESH_FORMATS, save_mesh

__all__ = [
    "mise", "MiseResult", "generate_meshes", "generate_split", "reconstruct_images", "MeshInfo",
    "save_mesh", "MESH_FORMATS", "load_image", "prepare_image", "plan_split",
]
