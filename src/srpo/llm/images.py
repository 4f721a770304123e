"""How images travel to a chat server: data URLs, public URLs, `file://` paths, or a user upload hook.

- `data` (default): a base64 `data:` URL, encoded once per image and reused by every request that needs it
  (K attempts of one question share one encoding; a small LRU of the last 64 images, 16 MB at most, serves
  records that repeat a recent image — memory does not grow with the input). Each comes with a
  short key (a digest of the image bytes, computed once) that stands in for the URL in the response cache
  key, so no request hashes a 100 KB URL.
- `prefix`: `--image-url-prefix https://host/imgs/` + the image's path relative to the image root, for
  images hosted publicly.
- `file`: `file:///abs/path`, for a vLLM server started with `--allowed-local-media-path`.
- `hook`: `--upload-hook module:function` (or `path/to/file.py:function`); the function gets the confined
  local `Path` (or the in-memory `ImageBytes`) and returns a URL the server can fetch.

Local paths are always confined to the image root first (`srpo.data.images.resolve_image`), so a dataset
cannot make us send a file from outside it. URLs in the data pass through unchanged.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import io
import os
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from PIL import Image

try:  # SIMD base64: ~20× faster than the standard library's on a 100 KB image (same output)
    from pybase64 import b64encode
except ImportError:  # pragma: no cover - pybase64 is a dependency, but the stdlib one will do
    from base64 import b64encode

from srpo.data.images import ImageError, image_bytes, kind_of, resolve_image
from srpo.data.sample import ImageBytes, ImageRef

IMAGE_MODES = ("data", "prefix", "file", "hook")


def load_hook(spec: str) -> Callable[[Path | ImageBytes], str]:
    """Import `module:function` or `file.py:function`."""
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name:
        raise ValueError(f"--upload-hook {spec!r}: write module:function or path/to/file.py:function")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise ValueError(f"--upload-hook {spec!r}: no such file {path}")
        module_spec = importlib.util.spec_from_file_location(path.stem, path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise ValueError(f"--upload-hook {spec!r}: {target} has no function {name!r}")
    return fn


class EncodedImage(NamedTuple):
    """What a chat message carries for one image, and the short key that identifies it in cache keys."""

    url: str
    key: str
    """`sha256:<digest of the bytes>` for data URLs (which embed the image); the URL itself otherwise."""


class ImageEncoder:
    """Turns an image reference into the URL a chat message carries. Raises `ImageError` for images that are
    missing, unreadable, not images, or outside the image root."""

    def __init__(
        self,
        image_root: str | os.PathLike | None,
        *,
        url_prefix: str | None = None,
        file_urls: bool = False,
        upload_hook: str | Callable[[Path | ImageBytes], str] | None = None,
        max_cached: int = 64,
        max_cached_bytes: int = 16 << 20,
    ) -> None:
        self.image_root = Path(image_root).resolve() if image_root is not None else None
        self.url_prefix = url_prefix
        self.file_urls = file_urls
        self.hook = load_hook(upload_hook) if isinstance(upload_hook, str) else upload_hook
        chosen = [m for m, on in (("prefix", url_prefix), ("file", file_urls), ("hook", self.hook)) if on]
        if len(chosen) > 1:
            raise ValueError(f"choose one way to send images, got {', '.join(chosen)}")
        self.mode = chosen[0] if chosen else "data"
        self._cache: OrderedDict[str, EncodedImage] = OrderedDict()
        self._cached_bytes = 0
        self.max_cached = max_cached
        self.max_cached_bytes = max_cached_bytes
        self.encoded = 0  # how many times an image was actually read and encoded

    def url(self, ref: ImageRef) -> str:
        """The URL for one image reference."""
        return self.encode(ref).url

    def encode(self, ref: ImageRef) -> EncodedImage:
        """The URL for one image reference and its cache key."""
        kind = kind_of(ref)
        if kind in ("url", "data"):
            return EncodedImage(ref, ref)  # type: ignore[arg-type]
        key = _key(ref)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        value = self._make(ref)
        self.encoded += 1
        self._remember(key, value)
        return value

    def _make(self, ref: ImageRef) -> EncodedImage:
        if self.mode == "hook":
            resolved = resolve_image(ref, self.image_root)
            try:
                url = self.hook(resolved)  # type: ignore[misc]
            except Exception as e:
                raise ImageError(f"image {_short(ref)}: upload hook failed: {type(e).__name__}: {e}") from e
            if not isinstance(url, str) or not url:
                raise ImageError(f"image {_short(ref)}: upload hook returned {url!r}, not a URL")
            return EncodedImage(url, url)
        if isinstance(ref, ImageBytes) or self.mode == "data":
            data, guessed = image_bytes(ref, self.image_root)
            mime = _check_image(data, ref) or guessed
            url = f"data:{mime};base64,{b64encode(data).decode('ascii')}"
            return EncodedImage(url, f"sha256:{hashlib.sha256(data).hexdigest()}:{mime}")
        path = resolve_image(ref, self.image_root)
        assert isinstance(path, Path)
        if self.mode == "file":
            url = path.as_uri()
        else:
            assert self.image_root is not None  # resolve_image refused paths without a root
            rel = path.relative_to(self.image_root).as_posix()
            url = self.url_prefix.rstrip("/") + "/" + quote(rel)  # type: ignore[union-attr]
        return EncodedImage(url, url)

    def _remember(self, key: str, value: EncodedImage) -> None:
        self._cache[key] = value
        self._cached_bytes += len(value.url)
        while self._cache and (
            len(self._cache) > self.max_cached or self._cached_bytes > self.max_cached_bytes
        ):
            _, old = self._cache.popitem(last=False)
            self._cached_bytes -= len(old.url)


_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _check_image(data: bytes, ref: ImageRef) -> str | None:
    """Refuse files that are not images, and return the MIME type their content says (None when PIL has
    none). Reads the header only: decoding a 100 KB PNG costs ~1 ms, more than the rest of a request; the
    server decodes anyway, and a broken image fails its own request there (the `local` backend decodes in
    full before batching). The common formats are known by their first bytes (PIL's header parse costs
    ~25 µs); anything else is opened by PIL."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature) and len(data) > 64:
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    try:
        with Image.open(io.BytesIO(data)) as im:
            return Image.MIME.get(im.format or "")
    except Exception as e:
        raise ImageError(f"image {_short(ref)} is not a readable image: {type(e).__name__}") from e


def _key(ref: ImageRef) -> str:
    if isinstance(ref, ImageBytes):
        return "bytes:" + hashlib.sha1(ref.data).hexdigest()
    return "ref:" + ref


def _short(ref: ImageRef) -> str:
    if isinstance(ref, ImageBytes):
        return f"<{len(ref.data)} bytes in memory>"
    return repr(ref if len(ref) < 80 else ref[:77] + "...")
