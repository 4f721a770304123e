"""Optional LLM-judge extraction: ask a model for the answer a response gives, where the rules find none.

Runs on the request engine every model call uses (`srpo.llm.engine.map_bounded` over one
`srpo.llm.client.LLMClient`): any registered backend, a bounded window of requests in flight, retries,
concurrency and the SQLite response cache — rescoring the same generations never pays twice. The judge
only extracts; normalisation and comparison stay the benchmark's own rules.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from srpo.data.sample import Sample
from srpo.eval.scoring import JudgeFn

NO_ANSWER = "NONE"
JUDGE_PROMPT = """You read a student's answer to a question and report the final answer it gives.

Question:
{question}
{choices}
Student's answer:
{response}

Reply with the final answer only — a number, expression, option letter, list or short phrase exactly as
the student gave it, without explanation. If the student gives no answer, reply {none}."""

MAX_RESPONSE_CHARS = 6000
"""Long responses are cut to their last characters (the answer is at the end)."""


def judge_prompt(sample: Sample, text: str) -> str:
    """The extraction prompt for one response."""
    from srpo.grading import render_choices

    choices = (
        render_choices(sample.choices).replace("Choices:", "Options:", 1) + "\n" if sample.choices else ""
    )
    return JUDGE_PROMPT.format(
        question=sample.question.strip() or "(shown in the image)",
        choices=choices,
        response=text[-MAX_RESPONSE_CHARS:],
        none=NO_ANSWER,
    )


def parse_judge_reply(reply: str) -> str | None:
    """The judge's answer, or None when it found none."""
    s = reply.strip().strip("`").strip()
    if not s or s.upper().rstrip(".") == NO_ANSWER:
        return None
    return s.splitlines()[0].strip() if len(s) > 200 else s


def llm_judge(
    model: str,
    *,
    backend: str = "openai",
    cache: str | os.PathLike | None = None,
    **settings: Any,
) -> JudgeFn:
    """A judge function for `srpo.eval.scoring.score_all`, backed by `model` on `backend`. Extra keyword
    arguments are `srpo.llm.settings.LLMSettings` fields (base_url, concurrency, timeout, …). Requests that
    fail for good count as "no answer"; a judge whose key is refused (or that no server answers) ends the
    scoring with `srpo.errors.RunFailed` rather than reading every answer as missing."""
    from srpo.errors import RunFailed
    from srpo.llm.client import LLMClient
    from srpo.llm.engine import map_bounded
    from srpo.llm.request import ChatRequest, RequestFailed, RunStopped
    from srpo.llm.settings import LLMSettings

    llm_settings = LLMSettings(backend=backend, model=model, progress=False, **settings)

    def judge(items: list[tuple[Sample, str]]) -> list[str | None]:
        async def run() -> list[str | None]:
            client = LLMClient(llm_settings, cache_path=cache)

            async def one(item: tuple[Sample, str]) -> str | None:
                sample, text = item
                request = ChatRequest(
                    [{"role": "user", "content": judge_prompt(sample, text)}],
                    {"temperature": 0.0, "max_tokens": 64},
                )
                try:
                    return parse_judge_reply((await client.chat(request)).text)
                except RequestFailed:
                    return None

            try:
                return await map_bounded(items, one, max(2 * llm_settings.concurrency, 2))
            except RunStopped as e:
                raise RunFailed(f"judge {model}: {e.reason}") from None
            finally:
                await client.aclose()

        return asyncio.run(run()) if items else []

    return judge
