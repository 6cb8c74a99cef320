"""A data set in the real layout from a folder of the user's own meshes: reading and normalising
them (`meshes`), their colours (`mesh_colors`), occupancy on real-world meshes (`occupancy`), and
the whole build (`from_meshes`, behind `vitocc build-dataset`)."""
