"""The `azure` backend: Azure OpenAI. Endpoint, deployment (`--model`) and API version come from flags or
the usual environment variables (AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION); the key from
AZURE_OPENAI_API_KEY unless `--api-key-env` names another variable."""

from __future__ import annotations

import itertools
import os

import openai

from srpo.llm.keys import read_api_key
from srpo.llm.openai_compat import OpenAIBackend, clients_per_url, http_client
from srpo.llm.settings import LLMSettings


class AzureBackend(OpenAIBackend):
    name = "azure"

    def __init__(self, settings: LLMSettings) -> None:
        deployment = settings.model or os.environ.get("AZURE_OPENAI_DEPLOYMENT")
        if not deployment:
            raise ValueError("azure backend: pass --model DEPLOYMENT (or set AZURE_OPENAI_DEPLOYMENT)")
        endpoints = settings.base_url or [
            settings.azure_endpoint or os.environ.get("AZURE_OPENAI_ENDPOINT") or ""
        ]
        if not all(endpoints):
            raise ValueError(
                "azure backend: pass --azure-endpoint https://NAME.openai.azure.com (or set AZURE_OPENAI_ENDPOINT)"
            )
        version = settings.api_version or os.environ.get("OPENAI_API_VERSION")
        if not version:
            raise ValueError("azure backend: pass --api-version (or set OPENAI_API_VERSION), e.g. 2024-10-21")
        env = settings.api_key_env or "AZURE_OPENAI_API_KEY"
        key = read_api_key(env)
        if key is None:
            raise ValueError(f"azure backend: no API key; set the environment variable {env}")
        self.model = deployment
        per_url = clients_per_url(settings.concurrency, len(endpoints))
        self._clients = [
            openai.AsyncAzureOpenAI(
                azure_endpoint=url,
                api_version=version,
                api_key=key,
                max_retries=0,
                timeout=settings.timeout,
                http_client=http_client(),
            )
            for _ in range(per_url)
            for url in endpoints
        ]
        self._next = itertools.cycle(range(len(self._clients)))
