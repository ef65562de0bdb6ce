// The `openai` npm SDK pointed at Tollgate's OpenAI-compatible API.
import OpenAI from 'openai';
import { apiKey, baseURL, main, weatherSchema } from './common.mjs';

// What the SDK sent, as it sent it (e.g. the `encoding_format` it picked by itself).
const sent = [];
const recording = async (url, init) => {
  if (typeof init?.body === 'string') sent.push(JSON.parse(init.body));
  return await fetch(url, init);
};
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, fetch: recording });
const weather = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather in a city', parameters: weatherSchema },
};

await main({
  chat: async ({ model, content }) =>
    await client.chat.completions.create({ model, messages: [{ role: 'user', content }] }),
  stream: async ({ model, content }) => {
    const stream = await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    return { chunks };
  },
  // The SDK's own accumulation of a streamed answer, tool calls included.
  'tools-stream': async ({ model, content }) => {
    const runner = client.chat.completions.stream({
      model,
      messages: [{ role: 'user', content }],
      tools: [weather],
      tool_choice: 'required',
    });
    return await runner.finalChatCompletion();
  },
  tools: async ({ model, content }) =>
    await client.chat.completions.create({
      model,
      messages: [{ role: 'user', content }],
      tools: [weather],
      tool_choice: 'required',
    }),
  embeddings: async ({ model, input, encoding_format }) => {
    const response = await client.embeddings.create({ model, input, ...(encoding_format ? { encoding_format } : {}) });
    return { ...response, sent };
  },
});
