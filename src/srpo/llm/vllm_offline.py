"""The `vllm` backend: vLLM's offline engine inside this process, batched (`srpo.llm.batching`).

For a GPU machine with vLLM installed and no server to run: `srpo eval run --backend vllm --model FOLDER`
(or `curate answer`). Requests are handed to `LLM.chat` up to max(`--batch-size`, `--concurrency`) at a time
(raise `--concurrency` to 128 or more: the engine batches inside, and a larger batch keeps the GPU busy);
each result is journaled as its batch finishes. Everything else — the
journal, resume, errors file, progress — is the same engine as for a server. To share one model between
several runs, serve it instead (`vllm serve`) and use `--backend openai`.
"""

from __future__ import annotations

from typing import Any

from srpo.errors import UserError
from srpo.llm.batching import BatchedBackend
from srpo.llm.request import ChatRequest, ChatResult
from srpo.llm.settings import LLMSettings

MAX_IMAGES_PER_PROMPT = 8
"""vLLM reserves room for this many images per prompt; a request with more fails on its own."""


class VLLMBackend(BatchedBackend):
    name = "vllm"

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.model:
            raise ValueError("--model is required for the vllm backend: a checkpoint folder or hub id")
        try:
            import vllm  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            raise UserError(
                "--backend vllm needs vLLM installed (pip install vllm) on a machine with a GPU; otherwise "
                "serve the model with `vllm serve` and use --backend openai --base-url http://HOST:PORT/v1, "
                "or use --backend local"
            ) from None
        import torch

        if not torch.cuda.is_available():
            raise UserError("--backend vllm needs a CUDA GPU; none is visible. Use --backend local on CPU.")
        # The client queues at most --concurrency requests: a batch can be no larger.
        super().__init__(max(settings.batch_size, settings.concurrency))
        self.model = settings.model
        self.max_tokens = settings.max_tokens or 1024
        self._llm: Any = None

    def load(self) -> None:
        import vllm  # type: ignore[import-not-found]

        self._llm = vllm.LLM(
            model=self.model, limit_mm_per_prompt={"image": MAX_IMAGES_PER_PROMPT}, trust_remote_code=False
        )

    def prepare(self, request: ChatRequest) -> Any:
        images = sum(
            1
            for m in request.messages
            if isinstance(m.get("content"), list)
            for item in m["content"]
            if item.get("type") in ("image", "image_url")
        )
        if images > MAX_IMAGES_PER_PROMPT:
            raise ValueError(f"{images} images in one prompt; the vllm backend takes {MAX_IMAGES_PER_PROMPT}")
        return request.messages  # vLLM reads OpenAI-style messages with data URLs itself

    def generate(self, prepared: list[Any], requests: list[ChatRequest]) -> list[ChatResult]:
        import vllm  # type: ignore[import-not-found]

        params = requests[0].params
        sampling = vllm.SamplingParams(
            temperature=float(params.get("temperature", 0.0)),
            top_p=float(params.get("top_p") or 1.0),
            max_tokens=int(params.get("max_tokens") or self.max_tokens),
        )
        outputs = self._llm.chat(prepared, sampling, use_tqdm=False)
        results = []
        for o in outputs:
            completion = o.outputs[0]
            results.append(
                ChatResult(
                    completion.text,
                    completion.finish_reason,
                    len(o.prompt_token_ids or []),
                    len(completion.token_ids),
                )
            )
        return results
