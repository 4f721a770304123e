"""Local image paths are confined to the image root; nothing a dataset says can make us read /etc/passwd."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from srpo.data.images import ImageError, image_bytes, image_data_url, kind_of, load_image, resolve_image
from srpo.data.sample import ImageBytes

FIX = Path(__file__).parent / "fixtures" / "data"


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "root"
    (r / "sub").mkdir(parents=True)
    (r / "sub" / "a.png").write_bytes((FIX / "images" / "bar.png").read_bytes())
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(tmp_path / "secret.txt", r / "link_out.png")
    os.symlink(r / "sub" / "a.png", r / "link_in.png")
    return r


@pytest.mark.parametrize(
    "ref",
    [
        "../secret.txt",
        "sub/../../secret.txt",
        "/etc/passwd",
        "file:///etc/passwd",
        "link_out.png",
        "sub/../../root/../secret.txt",
    ],
)
def test_escapes_are_refused(root, ref):
    with pytest.raises(ImageError, match="outside the image root"):
        resolve_image(ref, root)
    with pytest.raises(ImageError):
        image_data_url(ref, root)


@pytest.mark.parametrize("ref", ["sub/a.png", "./sub/a.png", "link_in.png", "sub/../sub/a.png"])
def test_paths_inside_the_root_resolve(root, ref):
    assert resolve_image(ref, root) == (root / "sub" / "a.png").resolve()


def test_absolute_path_inside_the_root_is_allowed(root):
    assert resolve_image(str(root / "sub" / "a.png"), root) == (root / "sub" / "a.png").resolve()


def test_missing_image_says_where_it_looked(root):
    with pytest.raises(ImageError, match="not found"):
        resolve_image("sub/none.png", root)


def test_no_root_is_an_error_for_paths_only():
    with pytest.raises(ImageError, match="--image-root"):
        resolve_image("a.png", None)
    assert resolve_image("https://example.org/a.png", None) == "https://example.org/a.png"


@pytest.mark.parametrize(
    "ref,kind",
    [
        ("https://x/y.png", "url"),
        ("http://x/y.png", "url"),
        ("data:image/png;base64,AAAA", "data"),
        ("a/b.png", "path"),
        (ImageBytes(b"x"), "bytes"),
    ],
)
def test_kinds(ref, kind):
    assert kind_of(ref) == kind


def test_load_and_encode(root):
    im = load_image("sub/a.png", root)
    assert im.size == (16, 16) and im.mode == "RGB"
    url = image_data_url("sub/a.png", root)
    assert url.startswith("data:image/png;base64,")
    data, mime = image_bytes(url, None)  # a data URL decodes back to the same bytes
    assert data == (root / "sub" / "a.png").read_bytes() and mime == "image/png"
    assert load_image(ImageBytes(data), None).size == (16, 16)


def test_corrupt_image_is_a_clear_error(root):
    (root / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ImageError, match="cannot be decoded"):
        load_image("bad.png", root)


def test_remote_url_is_not_fetched():
    with pytest.raises(ImageError, match="remote URL"):
        image_bytes("https://example.org/a.png", None)
