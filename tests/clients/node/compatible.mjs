// `ai` 5 with `@ai-sdk/openai-compatible` 1 pointed at Tollgate's OpenAI-compatible API.
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { embed, embedMany, generateText, jsonSchema, streamText, tool } from 'ai';
import { apiKey, baseURL, main, weatherSchema } from './common.mjs';

const tollgate = createOpenAICompatible({ name: 'tollgate', baseURL, apiKey, includeUsage: true });
const weather = tool({
  description: 'Current weather in a city',
  inputSchema: jsonSchema(weatherSchema),
  execute: async ({ city }) => ({ city, forecast: 'sunny' }),
});

const calls = (toolCalls) => toolCalls.map((c) => ({ id: c.toolCallId, name: c.toolName, input: c.input }));

await main({
  generate: async ({ model, prompt }) => {
    const result = await generateText({ model: tollgate(model), prompt, maxRetries: 0 });
    return { text: result.text, finishReason: result.finishReason, usage: result.usage, response: { id: result.response.id } };
  },
  stream: async ({ model, prompt }) => {
    const result = streamText({ model: tollgate(model), prompt, maxRetries: 0 });
    const deltas = [];
    for await (const delta of result.textStream) deltas.push(delta);
    return { deltas, text: await result.text, finishReason: await result.finishReason, usage: await result.usage };
  },
  tools: async ({ model, prompt }) => {
    const result = await generateText({ model: tollgate(model), prompt, tools: { weather }, toolChoice: 'required', maxRetries: 0 });
    return { finishReason: result.finishReason, toolCalls: calls(result.toolCalls), toolResults: result.toolResults.map((r) => r.output) };
  },
  'tools-stream': async ({ model, prompt }) => {
    const result = streamText({ model: tollgate(model), prompt, tools: { weather }, toolChoice: 'required', maxRetries: 0 });
    return { finishReason: await result.finishReason, toolCalls: calls(await result.toolCalls) };
  },
  embed: async ({ model, value }) => {
    const result = await embed({ model: tollgate.textEmbeddingModel(model), value, maxRetries: 0 });
    return { embedding: result.embedding, usage: result.usage };
  },
  'embed-many': async ({ model, values }) => {
    const result = await embedMany({ model: tollgate.textEmbeddingModel(model), values, maxRetries: 0 });
    return { embeddings: result.embeddings, usage: result.usage };
  },
});
