"""An imported image converted to PNG, in the render worker (Pillow comes with matplotlib).

GIF (its first frame), WebP, and JPEG a platform may not show as it is (CMYK) become a
PNG of the same size; transparency is kept. The size is read from the header and checked
against what a platform shows (:func:`bot.core.mediaimages.photo_problem`) before any
pixel is decoded, so a small file that claims a huge picture is refused at once.
"""

from __future__ import annotations

import io

from bot.core.mediaimages import photo_problem
from bot.core.rendering import RenderError
from bot.render.jobs import Png

__all__ = ["convert_picture"]


def convert_picture(data: bytes) -> Png:
    """The first frame of an image file as PNG bytes, with its width and height.

    Raises:
        RenderError: when Pillow cannot read the bytes, or the image is larger than a
            platform shows (checked from the header, before decoding).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            problem = photo_problem(0, width, height)
            if problem is not None:
                raise RenderError(problem)
            image.seek(0)
            transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            frame = image.convert("RGBA" if transparent else "RGB")
    except UnidentifiedImageError:
        raise RenderError("Pillow cannot read it as an image") from None
    except Image.DecompressionBombError as exc:
        raise RenderError(str(exc)) from None
    out = io.BytesIO()
    frame.save(out, format="PNG")
    return out.getvalue(), width, height
