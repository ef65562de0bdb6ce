// The AI SDK with its gateway provider, pointed at Tollgate and nothing else changed:
// `ai` 5 + `@ai-sdk/gateway` 2 at `<origin>/v1/ai` by default, `ai` 6 + `@ai-sdk/gateway` 3
// at `<origin>/v3/ai` with TOLLGATE_AI_SDK=6.
import { apiKey, baseURL, main, weatherSchema } from './common.mjs';

const six = process.env.TOLLGATE_AI_SDK === '6';
const {
  createGateway,
  embed,
  embedMany,
  generateObject,
  generateText,
  jsonSchema,
  streamText,
  tool,
} = await import(six ? 'ai-v6' : 'ai');

const gateway = createGateway({
  baseURL: `${new URL(baseURL).origin}/${six ? 'v3' : 'v1'}/ai`,
  apiKey,
});

const weather = tool({
  description: 'Current weather in a city',
  inputSchema: jsonSchema(weatherSchema),
  execute: async ({ city }) => ({ city, forecast: 'sunny' }),
});

function summary(result) {
  return {
    text: result.text,
    reasoningText: result.reasoningText ?? null,
    finishReason: result.finishReason,
    usage: result.usage,
    providerMetadata: result.providerMetadata,
    toolCalls: result.toolCalls.map((c) => ({ id: c.toolCallId, name: c.toolName, input: c.input })),
    toolResults: result.toolResults.map((r) => ({ id: r.toolCallId, output: r.output })),
    warnings: result.warnings ?? [],
  };
}

async function streamed(options) {
  const errors = [];
  const parts = [];
  const result = streamText({ ...options, onError: ({ error }) => errors.push(String(error?.message ?? error)) });
  const deltas = [];
  for await (const part of result.fullStream) {
    parts.push(part.type);
    if (part.type === 'text-delta') deltas.push(part.text);
  }
  return {
    deltas,
    parts,
    errors,
    text: await result.text,
    finishReason: await result.finishReason,
    usage: await result.usage,
    providerMetadata: (await result.providerMetadata) ?? null,
    toolCalls: (await result.toolCalls).map((c) => ({ id: c.toolCallId, name: c.toolName, input: c.input })),
    reasoningText: (await result.reasoningText) ?? null,
  };
}

await main({
  generate: async ({ model, prompt, system, temperature, providerOptions }) =>
    summary(
      await generateText({ model: gateway(model), prompt, system, temperature, providerOptions, maxRetries: 0 }),
    ),
  stream: async ({ model, prompt, providerOptions }) =>
    streamed({ model: gateway(model), prompt, providerOptions, maxRetries: 0 }),
  tools: async ({ model, prompt, toolChoice }) =>
    summary(await generateText({ model: gateway(model), prompt, tools: { weather }, toolChoice, maxRetries: 0 })),
  'tools-stream': async ({ model, prompt }) =>
    streamed({ model: gateway(model), prompt, tools: { weather }, toolChoice: 'required', maxRetries: 0 }),
  // Two steps: the model calls the tool, the SDK runs it and sends the result back.
  'tools-round-trip': async ({ model, prompt, providerOptions }) => {
    const result = await generateText({
      model: gateway(model),
      prompt,
      providerOptions,
      tools: { weather },
      stopWhen: ({ steps }) => steps.length >= 2,
      maxRetries: 0,
    });
    return { ...summary(result), steps: result.steps.length };
  },
  embed: async ({ model, value, providerOptions }) => {
    const result = await embed({ model: gateway.textEmbeddingModel(model), value, providerOptions, maxRetries: 0 });
    return { embedding: result.embedding, usage: result.usage, providerMetadata: result.providerMetadata ?? null };
  },
  'embed-many': async ({ model, values }) => {
    const result = await embedMany({ model: gateway.textEmbeddingModel(model), values, maxRetries: 0 });
    return { embeddings: result.embeddings, usage: result.usage, providerMetadata: result.providerMetadata ?? null };
  },
  object: async ({ model, prompt, schema }) => {
    const result = await generateObject({ model: gateway(model), prompt, schema: jsonSchema(schema), maxRetries: 0 });
    return { object: result.object, finishReason: result.finishReason };
  },
  models: async () => await gateway.getAvailableModels(),
  credits: async () => await gateway.getCredits(),
  'generation-info': async ({ id }) => await gateway.getGenerationInfo({ id }),
});
