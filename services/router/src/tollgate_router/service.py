"""Generation orchestration: resolve the model, route, call a provider (falling back to the next
one only before the first byte), then hand over to the relay."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Sequence
from datetime import UTC, datetime

from tollgate_common.errors import InvalidArgument

from tollgate_router import routing
from tollgate_router.catalog import Catalog, ModelInfo
from tollgate_router.credentials import SystemCredentials
from tollgate_router.domain import Attempt, GenerationEvent, GenerationRequest
from tollgate_router.errors import (
    ModelNotFound,
    NoProviderAvailable,
    ProviderFailed,
    ProviderRejected,
    UnsupportedModel,
)
from tollgate_router.preflight import NoPreflight, Preflight
from tollgate_router.providers import (
    Adapters,
    ProviderError,
    ProviderEvent,
    ProviderStream,
    UpstreamCall,
)
from tollgate_router.relay import FactSink, Generation, Opened, close_stream, relay
from tollgate_router.routing import Candidate

log = logging.getLogger(__name__)


def _final_error(error: ProviderError) -> ProviderRejected | ProviderFailed:
    if routing.passes_through(error):
        return ProviderRejected(
            error.status, error.message, type=error.type, code=error.code, param=error.param
        )
    return ProviderFailed(f"no provider could serve the request ({routing.describe(error)})")


class GenerationService:
    def __init__(
        self,
        catalog: Catalog,
        credentials: SystemCredentials,
        adapters: Adapters,
        facts: FactSink,
        *,
        preflight: Preflight | None = None,
    ) -> None:
        self._preflight = preflight if preflight is not None else NoPreflight()
        self._catalog = catalog
        self._credentials = credentials
        self._adapters = adapters
        self._facts = facts

    # -- catalog ----------------------------------------------------------------------------

    def list_models(self) -> Sequence[ModelInfo]:
        return self._catalog.models

    def get_model(self, name: str, param: str = "model") -> ModelInfo:
        model = self._catalog.resolve(name)
        if model is None:
            raise ModelNotFound(name, param)
        return model

    # -- generation -------------------------------------------------------------------------

    async def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationEvent, None]:
        """Events of one generation; failures before ``Started`` raise a DomainError."""
        t0, created = time.monotonic(), datetime.now(UTC)
        models = [self.get_model(request.model)]
        models += [self.get_model(name, "models") for name in request.routing.models]
        if models[0].type != "language":
            raise UnsupportedModel(models[0].id, models[0].type)
        if not request.messages:
            raise InvalidArgument("'messages' must not be empty", metadata={"param": "messages"})
        plan = routing.plan(models, request.routing, self._credentials, self._adapters)
        if not plan.candidates:
            raise NoProviderAvailable(
                f"no provider is available for model {models[0].id!r}", metadata={"param": "model"}
            )
        generation = Generation(
            request, plan, list(plan.skipped), t0, created, self._catalog.version
        )
        hold = await self._preflight.reserve(generation)  # 402 before any provider is called
        try:
            opened = await self._open(generation)
        except BaseException:
            await hold.release()
            raise
        async with contextlib.aclosing(relay(generation, opened, self._facts)) as events:
            async for event in events:
                yield event

    async def _open(self, generation: Generation) -> Opened:
        """The first candidate that answers; the next one after a failure worth a retry."""
        error = ProviderError(0, "no provider attempted")
        for candidate in generation.plan.candidates:
            start = datetime.now(UTC)
            stream: ProviderStream | None = None
            events: AsyncGenerator[ProviderEvent, None] | None = None
            try:
                stream = await candidate.adapter.open(self._call(generation, candidate))
                events = stream.events()
                first = await anext(events)
                return Opened(candidate, stream, events, first, start)
            except (ProviderError, StopAsyncIteration) as exc:
                await close_stream(stream, events)
                error = (
                    exc if isinstance(exc, ProviderError) else ProviderError(0, "empty response")
                )
            except BaseException:
                await close_stream(stream, events)
                raise
            retry = routing.falls_back(error)
            (log.warning if retry else log.debug)(
                "provider %s failed for %s: %s",
                candidate.offer.provider,
                candidate.model.id,
                routing.describe(error),
            )
            generation.attempts.append(
                Attempt(
                    provider=candidate.offer.provider,
                    provider_model_id=candidate.offer.provider_model_id,
                    success=False,
                    start_time=start,
                    end_time=datetime.now(UTC),
                    status_code=error.status,
                    error_message=routing.describe(error),
                    credential_type=candidate.credential_type,
                )
            )
            if not retry:
                break
        raise _final_error(error)

    @staticmethod
    def _call(generation: Generation, candidate: Candidate) -> UpstreamCall:
        request = generation.request
        timeout = None
        if request.timeout is not None:  # what is left of the caller's deadline
            timeout = max(request.timeout - (time.monotonic() - generation.t0), 0.001)
        return UpstreamCall(
            base_url=candidate.credential.base_url,
            api_key=candidate.credential.api_key,
            provider_model_id=candidate.offer.provider_model_id,
            messages=request.messages,
            params=request.params,
            stream=request.stream,
            timeout=timeout,
        )
