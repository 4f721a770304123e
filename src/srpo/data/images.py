"""Image references: classify them, confine local paths to an image root, and load or encode them.

A dataset is untrusted input: a row saying `"image": "../../etc/passwd"` must never make us read that file
and send it to a remote API. Every local path is therefore resolved (symlinks followed) and must land
inside the image root, or `ImageError` is raised. URLs and data URLs pass through untouched; in-memory
images (`ImageBytes`, from Parquet or HF datasets) need no file at all.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import io
import mimetypes
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from PIL import Image

from srpo.data.sample import ImageBytes, ImageRef, Sample


class ImageError(ValueError):
    """An image reference that cannot be used: missing, unreadable, or outside the image root."""


def kind_of(ref: ImageRef) -> str:
    """'bytes', 'data' (data URL), 'url' (http/https) or 'path'."""
    if isinstance(ref, ImageBytes):
        return "bytes"
    if ref.startswith("data:"):
        return "data"
    if ref.startswith(("http://", "https://")):
        return "url"
    return "path"


def default_image_root(input_path: str | os.PathLike) -> Path:
    """The folder of a data file (or the folder itself): where relative image paths are looked up by default."""
    p = Path(input_path)
    return (p if p.is_dir() else p.parent).resolve()


def confine(ref: str, image_root: str | os.PathLike | None) -> Path:
    """Resolve a local image path under `image_root`; refuse anything that lands outside it."""
    if image_root is None:
        raise ImageError(f"image {ref!r}: no image root given; pass --image-root DIR")
    root = _real_root(os.path.abspath(image_root))
    raw = unquote(urlparse(ref).path) if ref.startswith("file://") else ref
    # os.path.realpath resolves like Path.resolve (symlinks followed, missing parts kept) at a third of the
    # cost, which counts at hundreds of images a second.
    real = os.path.realpath(os.path.join(root, raw))
    if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
        raise ImageError(
            f"image {ref!r} resolves to {real}, outside the image root {root}; "
            "move the image under the root or pass the right --image-root"
        )
    return Path(real)


@functools.lru_cache(maxsize=64)
def _real_root(image_root: str) -> str:
    # Resolved once per root, not once per image: resolving walks (lstat) every component of the path.
    return os.path.realpath(image_root)


def resolve_image(ref: ImageRef, image_root: str | os.PathLike | None) -> Path | str | ImageBytes:
    """A confined, existing `Path` for local images; URLs, data URLs and in-memory images unchanged."""
    if kind_of(ref) != "path":
        return ref
    path = confine(ref, image_root)  # type: ignore[arg-type]
    if not path.is_file():
        raise ImageError(f"image {ref!r} not found (looked for {path})")
    return path


def resolved_refs(refs: list[ImageRef], image_root: str | os.PathLike | None) -> list[str]:
    """Image references as the strings training data carries: local images as absolute confined paths
    (ImageError when missing or outside the root), URLs and data URLs unchanged, in-memory images as data
    URLs. The one place curated and exported records resolve their images."""
    out = []
    for ref in refs:
        r = resolve_image(ref, image_root)
        out.append(str(r) if isinstance(r, Path) else (r if isinstance(r, str) else r.to_data_url()))
    return out


def image_bytes(ref: ImageRef, image_root: str | os.PathLike | None) -> tuple[bytes, str]:
    """The encoded bytes of an image and its MIME type (http URLs are not fetched: ImageError)."""
    resolved = resolve_image(ref, image_root)
    if isinstance(resolved, ImageBytes):
        return resolved.data, f"image/{resolved.format}"
    if isinstance(resolved, Path):
        try:
            data = resolved.read_bytes()
        except OSError as e:
            raise ImageError(f"image {ref!r}: cannot read {resolved}: {e.strerror}") from e
        return data, mimetypes.guess_type(resolved.name)[0] or "image/png"
    if resolved.startswith("data:"):
        header, _, payload = resolved.partition(",")
        mime = header[5:].split(";")[0] or "image/png"
        try:
            return base64.b64decode(payload, validate=False), mime
        except ValueError as e:
            raise ImageError(f"image data URL is not valid base64: {e}") from e
    raise ImageError(f"image {ref!r} is a remote URL; it is passed on as a URL, not read locally")


def image_data_url(ref: ImageRef, image_root: str | os.PathLike | None) -> str:
    """A `data:` URL for the image (URLs that are already data URLs are returned as they are)."""
    if isinstance(ref, str) and ref.startswith("data:"):
        return ref
    data, mime = image_bytes(ref, image_root)
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def load_image(ref: ImageRef, image_root: str | os.PathLike | None) -> Image.Image:
    """Decode the image as an RGB PIL image."""
    data, _ = image_bytes(ref, image_root)
    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except Exception as e:  # PIL raises many kinds for corrupt files
        raise ImageError(f"image {_short(ref)} cannot be decoded: {e}") from e
    return im.convert("RGB")


def _short(ref: ImageRef) -> str:
    if isinstance(ref, ImageBytes):
        return f"<{len(ref.data)} bytes in memory>"
    return repr(ref if len(ref) < 80 else ref[:77] + "...")


BLANK_GREY = (128, 128, 128)
"""The colour of the blank images of the image ablation (`srpo eval run --blank-images`)."""


def blank_image(ref: ImageRef, image_root: str | os.PathLike | None) -> ImageBytes:
    """A uniform grey PNG of the same size as the image `ref` names: the image ablation's stand-in, which
    keeps the prompt's layout and image token count and removes everything the picture shows. Remote URLs
    raise ImageError (their size is not known without fetching them)."""
    if kind_of(ref) == "url":
        raise ImageError(
            f"image {_short(ref)} is a remote URL: the blank-image ablation needs local images or data URLs "
            "to know each image's size; download the images first"
        )
    size = load_image(ref, image_root).size
    buf = io.BytesIO()
    Image.new("RGB", size, BLANK_GREY).save(buf, format="PNG")
    return ImageBytes(buf.getvalue(), "png")


def with_blank_images(sample: Sample) -> Sample:
    """A copy of `sample` whose every image is `blank_image` of it. An image that cannot be read is left as
    it is, so generation reports it for this sample as it would without the ablation; a remote URL raises
    ImageError naming the sample."""
    root = sample.meta.get("image_root")
    images: list[ImageRef] = []
    for ref in sample.images:
        if kind_of(ref) == "url":
            raise ImageError(
                f"sample {sample.id}: remote image {_short(ref)}; the blank-image ablation needs local "
                "images or data URLs (it must know each image's size)"
            )
        try:
            images.append(blank_image(ref, root))
        except ImageError:
            images.append(ref)
    return dataclasses.replace(sample, images=images)
