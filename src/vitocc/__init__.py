"""vitocc: single-image 3D reconstruction with ViT-encoded Occupancy Networks."""

__version__ = "0.1.0"
