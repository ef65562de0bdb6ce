"""``tollgate.router.v1.RouterService``: protobuf in and out (:mod:`tollgate_router.convert`),
the services do the work."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import Any

import grpc
from tollgate.router.v1 import router_pb2 as pb
from tollgate.router.v1 import router_pb2_grpc
from tollgate_common.timestamps import timestamp
from tollgate_common.together import MORE, STREAMS, says_more

from tollgate_router import convert
from tollgate_router.credentials.check import CredentialTester
from tollgate_router.domain import GenerationRequest
from tollgate_router.embeddings.service import EmbeddingService
from tollgate_router.events import GenerationEvent, UsageReported
from tollgate_router.generation.service import GenerationService
from tollgate_router.idempotency.service import Claim, Idempotency, Replay
from tollgate_router.lanes import Lanes, Observe
from tollgate_router.stored_responses.service import StoredResponses

Context = grpc.aio.ServicerContext[Any, Any]

# A generation's answer ends with one of these; it is kept before it goes out, so a caller that
# stops reading right after it cannot lose the answer its retry should find.
_LAST = frozenset({"finished", "error"})


def _batch(messages: list[pb.StreamGenerateResponse]) -> pb.StreamGenerateResponse:
    return pb.StreamGenerateResponse(batch=pb.EventBatch(events=messages))


async def _encoded(answer: Awaitable[pb.StreamGenerateResponse]) -> bytes:
    return (await answer).SerializeToString()


async def _grouped(
    stream: AsyncIterator[GenerationEvent],
) -> AsyncGenerator[list[pb.StreamGenerateResponse], None]:
    """The stream's events as the messages that go out: one event each, except the usage and
    the event after it (the relay yields them back to back, nothing is awaited between them),
    which share one message: every gRPC message costs the router and the edge about as much
    CPU as everything else done for a delta."""
    async for event in stream:
        message = convert.event_to_proto(event)
        if isinstance(event, UsageReported):
            following = await anext(stream, None)
            if following is not None:
                yield [message, convert.event_to_proto(following)]
                continue
        yield [message]


def _message(group: list[pb.StreamGenerateResponse]) -> pb.StreamGenerateResponse:
    return group[0] if len(group) == 1 else _batch(group)


def _replayed(answer: bytes) -> pb.StreamGenerateResponse:
    """A kept generation, marked as a replay on its ``started`` event."""
    message = pb.StreamGenerateResponse.FromString(answer)
    for event in message.batch.events:
        if event.WhichOneof("event") == "started":
            event.started.replayed = True
    return message


class RouterServicer(router_pb2_grpc.RouterServiceServicer):
    def __init__(
        self,
        service: GenerationService,
        embeddings: EmbeddingService | None = None,
        tester: CredentialTester | None = None,
        idempotency: Idempotency | None = None,
        stored: StoredResponses | None = None,
        observe: Observe | None = None,
    ) -> None:
        self._service = service
        # Generate and StreamGenerate calls carried on Generations streams (``observe``: their
        # call metrics).
        self.lanes = Lanes(self._answer, self._messages, observe)
        self._embeddings = embeddings
        self._tester = tester
        self._idempotency = idempotency
        self._stored = stored

    async def StreamGenerate(
        self, request: pb.StreamGenerateRequest, context: Context
    ) -> AsyncIterator[pb.StreamGenerateResponse]:
        async with contextlib.aclosing(
            self._messages(request, context.time_remaining())
        ) as messages:
            async for message in messages:
                yield message

    async def _messages(
        self, request: pb.StreamGenerateRequest, seconds: float | None
    ) -> AsyncGenerator[pb.StreamGenerateResponse, None]:
        """What StreamGenerate sends (``seconds``: what is left of the caller's deadline)."""
        generation = convert.generation_request_from_proto(request, seconds)
        claim = await self._claim(request, "generate")
        if isinstance(claim, Replay):
            replay = _replayed(claim.answer)
            for message in replay.batch.events if request.stream else [replay]:
                yield message
            return
        if not request.stream:
            yield await self._whole(generation, claim)
            return
        async with contextlib.aclosing(self._service.generate(generation)) as stream:
            groups = _grouped(stream)
            if claim is not None:
                groups = self._kept(claim, groups)
            async with contextlib.aclosing(groups):
                async for group in groups:
                    yield _message(group)

    async def Generate(
        self, request: pb.StreamGenerateRequest, context: Context
    ) -> pb.StreamGenerateResponse:
        return await self._answer(request, context.time_remaining())

    async def Generations(
        self, request_iterator: AsyncIterator[pb.GenerationsRequest], context: Context
    ) -> AsyncIterator[pb.GenerationsResponse]:
        # Said at once: the edge writes on a new stream only once it knows it is accepted (and
        # learns that this router reads several requests in one message and serves streams).
        await context.send_initial_metadata((MORE, STREAMS))
        together = says_more(context.invocation_metadata())
        async for message in self.lanes.serve(request_iterator, together):
            yield message

    async def _answer(
        self, request: pb.StreamGenerateRequest, seconds: float | None
    ) -> pb.StreamGenerateResponse:
        """What Generate answers (``seconds``: what is left of the caller's deadline)."""
        generation = convert.generation_request_from_proto(request, seconds)
        claim = await self._claim(request, "generate")
        if isinstance(claim, Replay):
            return _replayed(claim.answer)
        return await self._whole(generation, claim)

    async def _whole(
        self, generation: GenerationRequest, claim: Claim | None
    ) -> pb.StreamGenerateResponse:
        """A generation nobody reads before it ends: its answer in one message. It runs to its
        end even if the caller goes away (it is billed); with a claim, the answer is kept."""
        answer = self._complete(generation)
        if claim is None:
            return await answer
        assert self._idempotency is not None
        kept = await self._idempotency.run(claim, _encoded(answer))
        return pb.StreamGenerateResponse.FromString(kept)

    async def _complete(self, generation: GenerationRequest) -> pb.StreamGenerateResponse:
        return convert.answer_to_proto(await self._service.complete(generation))

    async def _kept(
        self, claim: Claim, groups: AsyncIterator[list[pb.StreamGenerateResponse]]
    ) -> AsyncGenerator[list[pb.StreamGenerateResponse], None]:
        """The stream's messages, its answer kept before its last event goes out; the claim is
        released when the stream ends otherwise (a failure before it started, a caller gone)."""
        assert self._idempotency is not None
        messages: list[pb.StreamGenerateResponse] = []
        kept = False
        try:
            async for group in groups:
                messages.extend(group)
                if group[-1].WhichOneof("event") in _LAST:
                    await self._idempotency.keep(claim, _batch(messages).SerializeToString())
                    kept = True
                yield group
        finally:
            if not kept:
                self._idempotency.release(claim)

    async def _claim(
        self, request: pb.StreamGenerateRequest | pb.EmbedRequest, operation: str
    ) -> Claim | Replay | None:
        """The request's claim on its idempotency key (or the kept answer); None without a key
        or when this router keeps none."""
        if self._idempotency is None:
            return None
        key = convert.idempotency_key_from_proto(request, operation)
        return None if key is None else await self._idempotency.claim(key)

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
        claim = await self._claim(request, "embed")
        if claim is None:
            return convert.embeddings_to_proto(await self._embeddings.embed(embedding))
        if isinstance(claim, Replay):
            response = pb.EmbedResponse.FromString(claim.answer)
            response.replayed = True
            return response
        assert self._idempotency is not None

        async def embedded() -> bytes:
            assert self._embeddings is not None
            result = await self._embeddings.embed(embedding)
            return convert.embeddings_to_proto(result).SerializeToString()

        return pb.EmbedResponse.FromString(await self._idempotency.run(claim, embedded()))

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

    async def _responses(self, context: Context) -> StoredResponses:
        if self._stored is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "responses are not stored here")
        assert self._stored is not None
        return self._stored

    async def StoreResponse(
        self, request: pb.StoreResponseRequest, context: Context
    ) -> pb.StoreResponseResponse:
        stored = await self._responses(context)
        kept = request.response
        expires = await stored.store(
            request.caller.team_id, kept.id, kept.response_json, kept.input_json
        )
        return pb.StoreResponseResponse(expires=timestamp(expires))

    async def GetStoredResponse(
        self, request: pb.GetStoredResponseRequest, context: Context
    ) -> pb.GetStoredResponseResponse:
        stored = await self._responses(context)
        kept = await stored.get(request.caller.team_id, request.id)
        return pb.GetStoredResponseResponse(
            response=pb.StoredResponse(
                id=kept.id,
                response_json=kept.response_json,
                input_json=kept.input_json,
                created=timestamp(kept.created_at),
                expires=timestamp(kept.expires_at),
            )
        )

    async def DeleteStoredResponse(
        self, request: pb.DeleteStoredResponseRequest, context: Context
    ) -> pb.DeleteStoredResponseResponse:
        stored = await self._responses(context)
        await stored.delete(request.caller.team_id, request.id)
        return pb.DeleteStoredResponseResponse()
