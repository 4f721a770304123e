"""srpo.llm: retries, Retry-After, cache, usage, images, structured output — against a real local server."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from curate_data import SECRET
from fake_server import FakeChatServer, FaultPlan
from srpo.data.images import ImageError
from srpo.data.sample import ImageBytes
from srpo.llm.cache import ResponseCache
from srpo.llm.client import LLMClient
from srpo.llm.images import ImageEncoder
from srpo.llm.progress import Progress
from srpo.llm.request import ChatRequest, ChatResult, LLMError, RequestFailed, RunStopped
from srpo.llm.retry import RetryPolicy, parse_retry_after
from srpo.llm.settings import LLMSettings
from srpo.llm.structured import StructuredOutputError, chat_structured, parse_json_object
from srpo.llm.usage import Usage


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def settings_for(server: FakeChatServer, **kw) -> LLMSettings:
    base = dict(model="m", base_url=[server.base_url], timeout=0.4, retry_base_delay=0.01, concurrency=8)
    base.update(kw)
    return LLMSettings(**base)


def run(coro):
    return asyncio.run(coro)


# ------------------------------------------------------------------------------------------ retry policy


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "200", "retry-after": "9"}, 0.2),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # a date in the past: no wait
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers, seconds):
    assert parse_retry_after(headers) == seconds


def test_backoff_grows_is_jittered_and_honours_retry_after():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, max_retry_after=30.0)
    rng = random.Random(0)
    for i, cap in enumerate([1, 2, 4, 8, 8, 8]):
        d = policy.delay(i, rng=rng)
        assert cap / 2 <= d <= cap
    assert policy.delay(0, retry_after=5.0, rng=rng) >= 5.0
    assert policy.delay(0, retry_after=1e9, rng=rng) == 30.0  # a hostile Retry-After is capped


# ------------------------------------------------------------------------------------------ tolerant JSON


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('Sure! Here it is:\n```\n{"a": "x}"}\n```\nHope that helps.', {"a": "x}"}),
        ('The answer: {"a": 1, "b": [1, 2]} — done. {"c": 3}', {"a": 1, "b": [1, 2]}),
        ('{"broken": } then {"a": 2}', {"a": 2}),
    ],
)
def test_parse_json_object(text, expected):
    assert parse_json_object(text) == expected


@pytest.mark.parametrize("text", ["", "no json here", "[1, 2]", "{not json", "{" * 5000])
def test_parse_json_object_refuses(text):
    with pytest.raises(ValueError):
        parse_json_object(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from('{}[]":,ab 1\n`json'), max_size=300))
def test_parse_json_object_only_raises_valueerror(text):
    with contextlib.suppress(ValueError):
        assert isinstance(parse_json_object(text), dict)


# ------------------------------------------------------------------------------------------ cache, usage


def test_cache_round_trip_and_key_depends_on_everything(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    req = ChatRequest([{"role": "user", "content": "hi"}], {"temperature": 1.0})
    cache.put(req.cache_key("m"), ChatResult("hello", "stop", 3, 1))
    hit = cache.get(req.cache_key("m"))
    assert hit is not None and hit.text == "hello" and hit.cached and hit.prompt_tokens == 3
    variants = [
        req.cache_key("other-model"),
        ChatRequest(req.messages, {"temperature": 0.5}).cache_key("m"),
        ChatRequest(req.messages, req.params, attempt=1).cache_key("m"),
        ChatRequest([{"role": "user", "content": "hi!"}], req.params).cache_key("m"),
    ]
    assert all(cache.get(k) is None for k in variants)
    assert len(set(variants) | {req.cache_key("m")}) == 5


def test_cache_batches_writes_but_gets_see_them_and_close_keeps_them(tmp_path):
    cache = ResponseCache(tmp_path / "c.sqlite")
    for i in range(3):
        cache.put(f"k{i}", ChatResult(f"answer {i}", "stop", 1, 1))
    assert cache.get("k1").text == "answer 1"  # not yet flushed, already visible
    cache.close()
    reopened = ResponseCache(tmp_path / "c.sqlite")
    assert len(reopened) == 3 and reopened.get("k2").text == "answer 2"


def test_cache_key_uses_image_keys_in_place_of_image_urls():
    def request(url: str, keys: list[str] | None) -> ChatRequest:
        content = [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "Q"}]
        return ChatRequest([{"role": "user", "content": content}], {"temperature": 1.0}, image_keys=keys)

    assert request("data:a", ["sha256:1"]).cache_key("m") == request("data:b", ["sha256:1"]).cache_key("m")
    assert request("data:a", ["sha256:1"]).cache_key("m") != request("data:a", ["sha256:2"]).cache_key("m")
    assert request("data:a", None).cache_key("m") != request("data:b", None).cache_key("m")


def _body(url: str, text: str = "What is shown?") -> dict:
    content = [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": text}]
    return {
        "model": "m",
        "messages": [{"role": "system", "content": "Think."}, {"role": "user", "content": content}],
    }


BIG = "data:image/png;base64," + "QUJD+/9=" * 1000


@pytest.mark.parametrize(
    "body",
    [
        _body(BIG),  # spliced
        _body(BIG, text='quotes " and \\ and é and \n'),  # spliced, the rest escaped
        _body(BIG[:-4] + "\n" + BIG[-4:]),  # a newline inside the URL: must be escaped, not spliced
        _body(BIG + '"'),
        _body(BIG, text=BIG),  # the same long string as text
        _body(BIG, text='"\x00srpo-spliced-url\x00"'),  # the splice marker itself in the user's text
        _body("https://example.com/a.png"),
        {"model": "m", "messages": [{"role": "user", "content": "plain"}], "temperature": 0.5},
    ],
)
def test_request_body_is_the_json_of_the_body(body):
    params = {k: v for k, v in body.items() if k not in ("model", "messages")}
    request = ChatRequest(body["messages"], {**params, "top_p": None})  # None: left out
    sent = request.body(body["model"])
    assert json.loads(sent) == body and request.body(body["model"]) is sent  # built once, reused


def test_request_body_refuses_text_that_is_not_unicode():
    with pytest.raises(LLMError, match="cannot be sent as JSON") as e:
        ChatRequest([{"role": "user", "content": "bad \ud800 surrogate"}]).body("m")
    assert not e.value.retryable


def test_image_encoder_keys_data_urls_by_a_digest_of_the_bytes(tmp_path):
    png(tmp_path / "root" / "a.png")
    png(tmp_path / "root" / "b.png", size=(9, 9))
    (tmp_path / "root" / "c.png").write_bytes((tmp_path / "root" / "a.png").read_bytes())
    enc = ImageEncoder(tmp_path / "root")
    a, b, c = (enc.encode(name) for name in ("a.png", "b.png", "c.png"))
    assert a.key.startswith("sha256:") and len(a.key) < 100
    assert a.key == c.key and a.key != b.key  # same bytes, same key
    hooked = ImageEncoder(tmp_path / "root", url_prefix="https://cdn/")
    assert hooked.encode("a.png") == ("https://cdn/a.png", "https://cdn/a.png")


def test_usage_cost_counts_only_paid_requests():
    u = Usage(price_in=2.0, price_out=8.0)
    u.add(ChatResult("a", prompt_tokens=1_000_000, completion_tokens=500_000))
    u.add(ChatResult("b", prompt_tokens=1_000_000, completion_tokens=1_000_000, cached=True))
    assert (u.requests, u.cached, u.prompt_tokens, u.completion_tokens) == (1, 1, 1_000_000, 500_000)
    assert u.cost == pytest.approx(6.0)
    assert Usage().cost is None


# ------------------------------------------------------------------------------------------ images


def png(path: Path, size=(8, 8)) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (200, 0, 0)).save(path)
    return path


def test_image_encoder_modes(tmp_path):
    png(tmp_path / "root" / "a b.png")
    root = tmp_path / "root"
    data = ImageEncoder(root)
    url = data.url("a b.png")
    assert url.startswith("data:image/png;base64,")
    assert data.url("a b.png") == url and data.encoded == 1  # encoded once, reused
    assert (
        ImageEncoder(root, url_prefix="https://cdn.example/imgs/").url("a b.png")
        == "https://cdn.example/imgs/a%20b.png"
    )
    assert ImageEncoder(root, file_urls=True).url("a b.png") == (root / "a b.png").resolve().as_uri()
    hooked = ImageEncoder(root, upload_hook=lambda p: f"https://up/{Path(str(p)).name}")
    assert hooked.url("a b.png") == "https://up/a b.png"
    assert data.url("https://x/y.png") == "https://x/y.png"
    buf = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (4, 4)).save(buf, format="PNG")
    assert data.url(ImageBytes(buf.getvalue(), "png")).startswith("data:image/png;base64,")


def test_upload_hook_from_a_file(tmp_path):
    png(tmp_path / "root" / "x.png")
    hook = tmp_path / "myhook.py"
    hook.write_text("def upload(path):\n    return 'https://bucket/' + path.name\n")
    assert (
        ImageEncoder(tmp_path / "root", upload_hook=f"{hook}:upload").url("x.png") == "https://bucket/x.png"
    )
    with pytest.raises(ValueError, match="no function"):
        ImageEncoder(tmp_path / "root", upload_hook=f"{hook}:nope")


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("missing.png", "not found"),
        ("../outside.png", "outside the image root"),
        ("/etc/passwd", "outside the image root"),
        ("notimage.png", "not a readable image"),
    ],
)
def test_image_encoder_refuses(tmp_path, ref, message):
    png(tmp_path / "outside.png")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "notimage.png").write_text("hello")
    with pytest.raises(ImageError, match=message):
        ImageEncoder(tmp_path / "root").url(ref)


# ------------------------------------------------------------------------------------------ progress


def test_progress_off_a_terminal_prints_plain_lines():
    out = io.StringIO()
    p = Progress("answer", total=4, stream=out, log_every=0.0)
    p.advance(tokens=10)
    p.advance(ok=False)
    p.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and len(lines) == 3
    assert (
        lines[-1].startswith("answer: 1/4 done | 1 errors |")
        and "10 tokens" in lines[-1]
        and "ETA" in lines[-1]
    )


# ------------------------------------------------------------------------------------------ real server


HTTP_PATHS = ["openai", "openai/aiohttp", "openai-sdk/aiohttp", "openai-sdk/httpx"]


@pytest.fixture(params=HTTP_PATHS)
def http_path(request, monkeypatch):
    """The backend to test: the lean path (plain HTTP/1.1 for http:// URLs, or its aiohttp session), and the
    official client on its aiohttp transport (the default when installed) and on the httpx fallback. Every
    fault test runs on all four."""
    from srpo.llm import openai_compat, openai_http

    backend, _, transport = request.param.partition("/")
    if backend == "openai":
        monkeypatch.setattr(openai_http, "PLAIN_HTTP", transport != "aiohttp")
    elif transport == "aiohttp" and not openai_compat.AIOHTTP:
        pytest.skip("aiohttp is not installed")
    else:
        monkeypatch.setattr(openai_compat, "AIOHTTP", transport == "aiohttp")
    return backend


def test_every_fault_is_retried_to_success(http_path):
    plan = FaultPlan(
        rates={"500": 0.2, "429": 0.2, "slow": 0.1, "drop": 0.15, "malformed": 0.15},
        max_faults_per_request=3,
        retry_after=0.05,
        slow_seconds=2.5,
    )
    with FakeChatServer(faults=plan, api_key=SECRET) as server:

        async def main():
            # A 1 s timeout: a slow fault (2.5 s) times out, a busy machine's ordinary answer does not.
            client = LLMClient(settings_for(server, max_retries=4, timeout=1.0, backend=http_path))
            reqs = [
                ChatRequest([{"role": "user", "content": f"q{i}"}], {"temperature": 1.0}) for i in range(40)
            ]
            results = await asyncio.gather(*(client.chat(r) for r in reqs))
            await client.aclose()
            return results, client.usage

        results, usage = run(main())
    assert all("<answer>" in r.text for r in results)
    faults = sum(n for kind, n in server.outcomes.items() if kind != "ok")
    assert {k for k in server.outcomes if k != "ok"} == {"500", "429", "slow", "drop", "malformed"}
    assert usage.retries == faults and usage.failed == 0 and usage.requests == 40


def test_429_retry_after_is_honoured_by_the_client(http_path):
    with FakeChatServer(
        faults=FaultPlan(rates={"429": 1.0}, max_faults_per_request=1, retry_after=0.3)
    ) as server:

        async def main():
            client = LLMClient(settings_for(server, backend=http_path))
            await client.chat(ChatRequest([{"role": "user", "content": "x"}]))
            await client.aclose()

        run(main())
    (times,) = server.request_times.values()
    assert (
        len(times) == 2 and times[1] - times[0] >= 0.3
    )  # the server asked for 0.3 s; the base delay is 0.01 s


def test_4xx_is_not_retried_and_retries_are_bounded(http_path):
    def reject(body):
        text = json.dumps(body["messages"])
        return (400, "bad image") if "bad" in text else None

    plan = FaultPlan(rates={"500": 1.0}, max_faults_per_request=100)
    with FakeChatServer(reject=reject, faults=plan) as server:

        async def main():
            client = LLMClient(settings_for(server, max_retries=3, backend=http_path))
            errors = []
            for content in ("bad", "always 500"):
                with pytest.raises(RequestFailed) as e:
                    await client.chat(ChatRequest([{"role": "user", "content": content}]))
                errors.append(e.value)
            await client.aclose()
            return errors

        bad, flaky = run(main())
    assert (
        bad.attempts == 1
        and bad.status == 400
        and "not retryable" in bad.reason
        and "bad image" in bad.reason
    )
    assert flaky.attempts == 4 and "gave up after 4 attempts" in flaky.reason and "HTTP 500" in flaky.reason


def test_timeout_is_per_request_and_recorded(http_path):
    with FakeChatServer(
        faults=FaultPlan(rates={"slow": 1.0}, max_faults_per_request=100, slow_seconds=2.0)
    ) as server:

        async def main():
            client = LLMClient(settings_for(server, timeout=0.2, max_retries=1, backend=http_path))
            with pytest.raises(RequestFailed, match="timed out after 0.2s"):
                await client.chat(ChatRequest([{"role": "user", "content": "x"}]))
            await client.aclose()

        run(main())


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket is closed


def test_connection_refused_is_reported_as_refused_not_as_a_timeout(http_path):
    url = f"http://127.0.0.1:{_closed_port()}/v1"

    async def main():
        client = LLMClient(
            LLMSettings(
                model="m", base_url=[url], timeout=30, max_retries=1, retry_base_delay=0.01, backend=http_path
            )
        )
        with pytest.raises(RequestFailed) as e:
            await client.chat(ChatRequest([{"role": "user", "content": "x"}]))
        await client.aclose()
        return e.value

    err = run(main())
    assert f"connection refused by {url}" in err.reason and "timed out" not in err.reason
    assert err.kind == "unreachable" and err.attempts == 2


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_stops_the_run_after_a_few_requests(http_path, status):
    def reject(body):
        return (status, "Incorrect API key provided")

    with FakeChatServer(reject=reject) as server:

        async def main():
            client = LLMClient(settings_for(server, concurrency=2, backend=http_path))
            outcomes = []

            async def one(i):
                try:
                    await client.chat(ChatRequest([{"role": "user", "content": str(i)}]))
                except (RequestFailed, RunStopped) as e:
                    outcomes.append(e)

            await asyncio.gather(*(one(i) for i in range(50)))
            await client.aclose()
            return outcomes, client.stop_reason

        outcomes, stop_reason = run(main())
    refused = [e for e in outcomes if isinstance(e, RequestFailed)]
    assert 3 <= len(refused) <= 3 + 2 and server.outcomes[str(status)] == len(refused)  # then nothing is sent
    assert all(e.kind == "auth" and e.attempts == 1 for e in refused)  # never retried
    assert len(outcomes) == 50 and stop_reason is not None
    assert f"HTTP {status}" in stop_reason and "check OPENAI_API_KEY / --api-key-env" in stop_reason


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (SECRET + "\r\n", "contains a line break"),
        (SECRET + "\n", "contains a line break"),
        ("sk-\x07abc", "control or non-ASCII"),
        ("sk-clé", "control or non-ASCII"),
    ],
)
def test_a_key_that_cannot_travel_in_a_header_is_refused_before_any_request(
    http_path, monkeypatch, key, message
):
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with FakeChatServer() as server, pytest.raises(ValueError, match=message) as e:
        LLMClient(settings_for(server, backend=http_path))
    assert "$OPENAI_API_KEY" in str(e.value) and key.strip() not in str(e.value)
    assert not server.outcomes


def test_cache_means_a_rerun_sends_nothing(tmp_path):
    with FakeChatServer() as server:

        async def main():
            client = LLMClient(settings_for(server), cache_path=tmp_path / "c.sqlite")
            reqs = [ChatRequest([{"role": "user", "content": "x"}], attempt=k) for k in range(3)]
            first = [await client.chat(r) for r in reqs]
            again = [await client.chat(r) for r in reqs]
            await client.aclose()
            return first, again, client.usage

        first, again, usage = run(main())
    assert server.outcomes["ok"] == 3 and usage.requests == 3 and usage.cached == 3
    assert [r.text for r in first] == [r.text for r in again] and all(r.cached for r in again)


def test_requests_spread_over_several_base_urls():
    with FakeChatServer() as a, FakeChatServer() as b:

        async def main():
            client = LLMClient(
                LLMSettings(model="m", base_url=[a.base_url, b.base_url], retry_base_delay=0.01)
            )
            await asyncio.gather(
                *(client.chat(ChatRequest([{"role": "user", "content": str(i)}])) for i in range(10))
            )
            await client.aclose()

        run(main())
    assert a.outcomes["ok"] == 5 and b.outcomes["ok"] == 5


def test_rpm_limit_spaces_request_starts():
    with FakeChatServer() as server:

        async def main():
            client = LLMClient(settings_for(server, rpm=600))  # one start per 0.1 s
            await asyncio.gather(
                *(client.chat(ChatRequest([{"role": "user", "content": str(i)}])) for i in range(4))
            )
            await client.aclose()

        run(main())
    starts = sorted(t for times in server.request_times.values() for t in times)
    assert all(b - a >= 0.09 for a, b in zip(starts, starts[1:], strict=False))


def test_api_key_is_redacted_from_errors_even_when_the_server_echoes_it(tmp_path, http_path):
    def reject(body):
        return (403, f"key {SECRET} is not allowed here")

    with FakeChatServer(reject=reject) as server:

        async def main():
            client = LLMClient(settings_for(server, backend=http_path), cache_path=tmp_path / "c.sqlite")
            with pytest.raises(RequestFailed) as e:
                await client.chat(ChatRequest([{"role": "user", "content": "x"}]))
            await client.aclose()
            return e.value

        err = run(main())
    assert SECRET not in err.reason and "***" in err.reason
    assert SECRET.encode() not in (tmp_path / "c.sqlite").read_bytes()


@pytest.mark.parametrize("backend", ["openai", "openai-sdk"])
def test_missing_key_for_the_official_api_is_a_clear_error(monkeypatch, backend):
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ValueError, match="set the environment variable OPENAI_API_KEY"):
        LLMClient(LLMSettings(model="gpt-4o", backend=backend))
    with pytest.raises(ValueError, match="--api-key-env MY_KEY: that environment variable is not set"):
        LLMClient(
            LLMSettings(model="m", base_url=["http://127.0.0.1:9/v1"], api_key_env="MY_KEY", backend=backend)
        )


# ------------------------------------------------------------------------------------------ structured


class Reply(BaseModel):
    reflection: str
    revised_reasoning: str


def test_structured_output_uses_json_schema_then_falls_back_and_reasks():
    replies = iter(
        ['I think {"reflection": "r"}', 'Here:\n```json\n{"reflection": "r", "revised_reasoning": "s"}\n```']
    )
    seen = []

    def reject(body):
        seen.append("response_format" in body)
        return (400, "response_format json_schema is not supported") if "response_format" in body else None

    with FakeChatServer(reject=reject, responder=lambda body: next(replies)) as server:

        async def main():
            client = LLMClient(settings_for(server))
            parsed, results = await chat_structured(client, [{"role": "user", "content": "x"}], Reply)
            await client.aclose()
            return parsed, results, client.backend.supports_json_schema

        parsed, results, schema_ok = run(main())
    assert parsed == Reply(reflection="r", revised_reasoning="s")
    assert seen == [True, False, False] and not schema_ok and len(results) == 2


def test_structured_output_gives_up_after_bounded_reasks():
    with FakeChatServer(responder=lambda body: "no json, sorry") as server:

        async def main():
            client = LLMClient(settings_for(server))
            with pytest.raises(StructuredOutputError, match="invalid reply after 2 tries: no JSON object"):
                await chat_structured(client, [{"role": "user", "content": "x"}], Reply, max_reasks=1)
            await client.aclose()

        run(main())
    assert server.outcomes["ok"] == 2


@pytest.mark.parametrize(
    "part",
    [
        {"type": "text", "text": "What is 1 + 1?"},
        {"type": "text", "text": 'quotes " \\ é ü 中 \n \t \x01 \u2028'},
        {"text": "keys the other way round", "type": "text"},
        {"type": "text", "text": ""},
        {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}},
        {"type": "input_audio", "input_audio": {"data": "abc"}},
    ],
)
def test_cache_key_of_a_part_is_its_sorted_json(part):
    # The cache keys of earlier runs stay valid: a part hashes as json.dumps(part, sort_keys=True) always did.
    from srpo.llm.request import _part_json

    assert _part_json(part) == json.dumps(part, sort_keys=True, default=str).encode()
