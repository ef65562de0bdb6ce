"""``tollgate.router.v1.RouterService``: protobuf in and out (:mod:`tollgate_router.convert`),
the services do the work."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
from tollgate.router.v1 import router_pb2 as pb
from tollgate.router.v1 import router_pb2_grpc

from tollgate_router import convert
from tollgate_router.credentials.check import CredentialTester
from tollgate_router.embeddings.service import EmbeddingService
from tollgate_router.generation.service import GenerationService

Context = grpc.aio.ServicerContext[Any, Any]


class RouterServicer(router_pb2_grpc.RouterServiceServicer):
    def __init__(
        self,
        service: GenerationService,
        embeddings: EmbeddingService | None = None,
        tester: CredentialTester | None = None,
    ) -> None:
        self._service = service
        self._embeddings = embeddings
        self._tester = tester

    async def StreamGenerate(
        self, request: pb.StreamGenerateRequest, context: Context
    ) -> AsyncIterator[pb.StreamGenerateResponse]:
        generation = convert.generation_request_from_proto(request, context.time_remaining())
        if not request.stream:
            # Nobody reads a non-streaming generation before it ends: one message, not four.
            # It runs to its end even if the caller goes away (it is billed).
            events = await self._service.complete(generation)
            batch = [convert.event_to_proto(event) for event in events]
            yield pb.StreamGenerateResponse(batch=pb.EventBatch(events=batch))
            return
        async with contextlib.aclosing(self._service.generate(generation)) as stream:
            async for event in stream:
                yield convert.event_to_proto(event)

    async def ListModels(
        self, request: pb.ListModelsRequest, context: Context
    ) -> pb.ListModelsResponse:
        return pb.ListModelsResponse(
            models=[convert.model_to_proto(m) for m in self._service.list_models()]
        )

    async def GetModel(self, request: pb.GetModelRequest, context: Context) -> pb.GetModelResponse:
        return pb.GetModelResponse(
            model=convert.model_to_proto(self._service.get_model(request.id))
        )

    async def Embed(self, request: pb.EmbedRequest, context: Context) -> pb.EmbedResponse:
        if self._embeddings is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "embeddings are not served here")
        assert self._embeddings is not None
        embedding = convert.embedding_request_from_proto(request, context.time_remaining())
        return convert.embeddings_to_proto(await self._embeddings.embed(embedding))

    async def TestCredential(
        self, request: pb.TestCredentialRequest, context: Context
    ) -> pb.TestCredentialResponse:
        if self._tester is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "credential tests are not served")
        assert self._tester is not None
        outcome = await self._tester.test(
            request.caller.team_id, request.provider, dict(request.credentials)
        )
        return convert.credential_outcome_to_proto(outcome)
