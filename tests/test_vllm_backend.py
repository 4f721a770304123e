"""The `vllm` backend's glue (batching, sampling parameters, outputs, per-request failures) with a stand-in
for the `vllm` package, which needs a GPU: the real engine cannot run here. Without vLLM the backend is a
clear error before any work."""

from __future__ import annotations

import asyncio
import sys
import types
from dataclasses import dataclass

import pytest

from srpo.llm.client import LLMClient
from srpo.llm.request import ChatRequest, RequestFailed
from srpo.llm.settings import LLMSettings


@dataclass
class _Completion:
    text: str
    finish_reason: str
    token_ids: list[int]


@dataclass
class _Output:
    prompt_token_ids: list[int]
    outputs: list[_Completion]


def _fake_vllm(calls: list) -> types.ModuleType:
    module = types.ModuleType("vllm")

    class SamplingParams:
        def __init__(self, **kw):
            self.kw = kw

    class LLM:
        def __init__(self, **kw):
            calls.append(("load", kw))

        def chat(self, conversations, sampling, use_tqdm=False):
            calls.append(("chat", len(conversations), sampling.kw))
            if any("explode" in str(c) for c in conversations):
                raise RuntimeError("CUDA error: device-side assert")
            return [
                _Output([1, 2, 3], [_Completion(f"<answer>{c[-1]['content']}</answer>", "stop", [4, 5])])
                for c in conversations
            ]

    module.LLM, module.SamplingParams = LLM, SamplingParams
    return module


@pytest.fixture
def fake_vllm(monkeypatch):
    torch = pytest.importorskip("torch")
    calls: list = []
    monkeypatch.setitem(sys.modules, "vllm", _fake_vllm(calls))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    return calls


def test_requests_are_batched_and_a_failing_request_fails_alone(fake_vllm):
    settings = LLMSettings(backend="vllm", model="m", concurrency=8, batch_size=8, max_tokens=16)

    async def main():
        client = LLMClient(settings)
        texts = ["1", "2", "explode", "4"]
        outcomes = await asyncio.gather(
            *(
                client.chat(ChatRequest([{"role": "user", "content": t}], {"temperature": 0.0}))
                for t in texts
            ),
            return_exceptions=True,
        )
        await client.aclose()
        return outcomes

    outcomes = asyncio.run(main())
    assert [o.text for o in outcomes if not isinstance(o, Exception)] == [
        "<answer>1</answer>",
        "<answer>2</answer>",
        "<answer>4</answer>",
    ]
    (failed,) = [o for o in outcomes if isinstance(o, Exception)]
    assert isinstance(failed, RequestFailed) and "device-side assert" in failed.reason
    loads = [c for c in fake_vllm if c[0] == "load"]
    chats = [c for c in fake_vllm if c[0] == "chat"]
    assert len(loads) == 1 and loads[0][1]["model"] == "m"
    assert chats[0][1] == 4 and chats[0][2] == {"temperature": 0.0, "top_p": 1.0, "max_tokens": 16}
    assert [c[1] for c in chats[1:]] == [1, 1, 1, 1]  # the batch failed: one by one, to find the culprit


def test_without_vllm_the_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import vllm → ImportError
    with pytest.raises(ValueError, match="--backend vllm needs vLLM installed"):
        LLMClient(LLMSettings(backend="vllm", model="m"))
