"""`vitocc serve`: a local web page that turns a dropped picture into a mesh shown in 3D.

One model load serves every request (`Reconstructor`); `make_server` binds it to an
address. The mesh comes from `vitocc.generation.reconstruct_images`, the function behind
`vitocc reconstruct`, so a downloaded file is the one the CLI writes with the same settings.
"""

from vitocc.serve.server import (
    DOWNLOAD_FORMATS,
    MAX_UPLOAD_BYTES,
    Reconstructor,
    Result,
    Settings,
    make_server,
)

__all__ = ["DOWNLOAD_FORMATS", "MAX_UPLOAD_BYTES", "Reconstructor", "Result", "Settings", "make_server"]
