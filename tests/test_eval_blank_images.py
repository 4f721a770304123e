"""The image ablation of `srpo eval run --blank-images`: every image becomes a uniform grey one of the same size,
the run says so (and refuses to be resumed without it), and the report puts the accuracy with and without the
image side by side. The model is a real OpenAI-compatible server on 127.0.0.1 that answers from the pixels it is
sent: the colour it sees."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from fake_server import FakeChatServer
from srpo.data.images import BLANK_GREY, ImageError, blank_image, with_blank_images
from srpo.data.sample import ImageBytes, Sample
from srpo.data.synth import COLOURS, write_synth
from srpo.eval.run import EvalError, run_eval
from srpo.response import five_block_response


def png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def is_uniform_grey(data: bytes, size: tuple[int, int]) -> bool:
    with Image.open(io.BytesIO(data)) as im:
        pixels = np.asarray(im.convert("RGB"))
    return im.size == size and bool((pixels == np.array(BLANK_GREY)).all())


@pytest.mark.parametrize("size", [(56, 56), (120, 40), (1, 1)])
def test_blank_image_keeps_the_size_of_every_kind_of_reference(tmp_path, size):
    (tmp_path / "a.png").write_bytes(png(size, (200, 10, 10)))
    data_url = "data:image/png;base64," + base64.b64encode(png(size, (0, 0, 255))).decode()
    for ref in ("a.png", str(tmp_path / "a.png"), data_url, ImageBytes(png(size, (0, 255, 0)))):
        blank = blank_image(ref, tmp_path)
        assert isinstance(blank, ImageBytes) and blank.format == "png"
        assert is_uniform_grey(blank.data, size), ref


def test_blank_image_refuses_remote_urls_and_unreadable_files(tmp_path):
    with pytest.raises(ImageError, match="remote URL"):
        blank_image("https://example.com/a.png", tmp_path)
    with pytest.raises(ImageError, match="not found"):
        blank_image("missing.png", tmp_path)


def test_with_blank_images_replaces_every_image_and_keeps_what_it_cannot_read(tmp_path):
    (tmp_path / "a.png").write_bytes(png((30, 20), (1, 2, 3)))
    sample = Sample("s1", "Q?", "red", images=["a.png", "gone.png"], meta={"image_root": str(tmp_path)})
    blanked = with_blank_images(sample)
    assert sample.images == ["a.png", "gone.png"]  # the original is left alone
    assert is_uniform_grey(blanked.images[0].data, (30, 20))
    # An unreadable image stays as it was, so generation reports it for this sample as it always does.
    assert blanked.images[1] == "gone.png"
    assert (blanked.id, blanked.question, blanked.answer, blanked.meta) == ("s1", "Q?", "red", sample.meta)
    remote = Sample("s2", "Q?", "red", images=["https://example.com/x.png"])
    with pytest.raises(ImageError, match="sample s2: remote image"):
        with_blank_images(remote)


# ---------------------------------------------------------------------------------------------- end to end


def sees_colours(body: dict) -> str:
    """A model with perfect sight: it names the colour that covers most of the picture it was sent."""
    url = next(
        part["image_url"]["url"]
        for m in body["messages"]
        if isinstance(m["content"], list)
        for part in m["content"]
        if part.get("type") == "image_url"
    )
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as im:
        pixels = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(int)
    named = {**COLOURS, "grey": BLANK_GREY}
    seen = max(named, key=lambda c: int((np.abs(pixels - np.array(named[c])).sum(axis=1) < 30).sum()))
    answer = rf"\boxed{{{seen}}}"
    return five_block_response(
        f"The shape is {seen}.", answer, "Checking the colour again.", "Still.", answer
    )


@pytest.fixture
def colour_data(tmp_path):
    return write_synth(
        tmp_path / "data", 8, seed=3, test_fraction=0.0, image_size=56, tasks="colour"
    ).train_path


def eyes_run(server, data, out, **options):
    """`srpo eval run` of the colour-seeing stand-in model on `data` into `out`."""
    return run_eval(
        "synthetic",
        data,
        out,
        backend="openai",
        model="eyes",
        base_url=[server.base_url],
        progress=False,
        **options,
    )


def test_blank_images_take_away_what_the_model_saw_and_the_report_shows_it(
    tmp_path, colour_data, monkeypatch
):
    from srpo.eval.report import write_report

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    runs = {}
    with FakeChatServer(responder=sees_colours) as server:
        for label, blank in (("seen", False), ("blank", True)):
            runs[label] = eyes_run(server, colour_data, tmp_path / label, blank_images=blank)
        # Resuming a run with the other image setting is refused: it would mix two experiments.
        with pytest.raises(EvalError, match="blank_images: True → False"):
            eyes_run(server, colour_data, tmp_path / "blank")
    assert runs["seen"]["accuracy"] == 1.0 and runs["blank"]["accuracy"] == 0.0
    assert runs["blank"]["n"] == runs["seen"]["n"] == 8
    assert json.loads((tmp_path / "blank" / "run.json").read_text())["blank_images"] is True
    assert json.loads((tmp_path / "seen" / "run.json").read_text())["blank_images"] is False

    report = write_report([tmp_path / "seen", tmp_path / "blank"], tmp_path / "report")
    md = report["markdown"].read_text()
    assert "## With and without the image" in md
    assert "| eyes | seen | blank | 100.0 → 0.0 | -100.0 | 100.0 → 0.0 | -100.0 |" in md
    assert "With and without the image" in report["html"].read_text()


def test_report_without_a_blank_run_has_no_ablation_section(tmp_path, colour_data, monkeypatch):
    from srpo.eval.report import write_report

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    with FakeChatServer(responder=sees_colours) as server:
        eyes_run(server, colour_data, tmp_path / "seen")
    md = write_report([tmp_path / "seen"], tmp_path / "report")["markdown"].read_text()
    assert "With and without the image" not in md


def test_cli_flag(tmp_path, colour_data, monkeypatch):
    from srpo.cli import app

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    with FakeChatServer(responder=sees_colours) as server:
        result = CliRunner().invoke(
            app,
            [
                "eval",
                "run",
                "--benchmark",
                "synthetic",
                "--data",
                str(colour_data),
                "--output",
                str(tmp_path / "cli"),
                "--backend",
                "openai",
                "--model",
                "eyes",
                "--base-url",
                server.base_url,
                "--no-progress",
                "--blank-images",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "accuracy=0.0%" in result.output
    assert json.loads((tmp_path / "cli" / "run.json").read_text())["blank_images"] is True
