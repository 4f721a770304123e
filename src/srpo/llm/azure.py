"""The `azure` backend: Azure OpenAI, through the official client. Endpoint, deployment (`--model`) and API
version come from flags or the usual environment variables (AZURE_OPENAI_ENDPOINT, OPENAI_API_VERSION); the
key from AZURE_OPENAI_API_KEY unless `--api-key-env` names another variable."""

from __future__ import annotations

import os

import openai

from srpo.llm.keys import read_api_key
from srpo.llm.openai_compat import OpenAISDKBackend, http_client
from srpo.llm.settings import LLMSettings


class AzureBackend(OpenAISDKBackend):
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
        self.key_env = settings.api_key_env or "AZURE_OPENAI_API_KEY"
        key = read_api_key(self.key_env)
        if key is None:
            raise ValueError(f"azure backend: no API key; set the environment variable {self.key_env}")
        self.model = deployment
        self._pool_of(
            endpoints,
            settings,
            lambda url: openai.AsyncAzureOpenAI(
                azure_endpoint=url,
                # In the URL, not taken from the body: the body goes as ready bytes, which the client does
                # not read, so without this the request would miss /deployments/NAME.
                azure_deployment=deployment,
                api_version=version,
                api_key=key,
                max_retries=0,
                timeout=settings.timeout,
                http_client=http_client(),
            ),
        )
