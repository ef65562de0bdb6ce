// The `@anthropic-ai/sdk` npm SDK pointed at Tollgate's root (as ANTHROPIC_BASE_URL would): the
// SDK appends /v1/messages itself.
import Anthropic from '@anthropic-ai/sdk';
import { apiKey, baseURL, main, weatherSchema } from './common.mjs';

const client = new Anthropic({ baseURL: baseURL.replace(/\/v1$/, ''), apiKey, maxRetries: 0 });
const weather = { name: 'get_weather', description: 'Current weather in a city', input_schema: weatherSchema };
const ask = (model, content, extra = {}) => ({
  model,
  max_tokens: 4000,
  messages: [{ role: 'user', content }],
  ...extra,
});

await main({
  create: async ({ model, content }) => await client.messages.create(ask(model, content)),
  // The SDK's own accumulation of the stream, and the text as it streamed.
  stream: async ({ model, content }) => {
    const stream = client.messages.stream(ask(model, content));
    const texts = [];
    stream.on('text', (text) => texts.push(text));
    const message = await stream.finalMessage();
    return { message, text: texts.join('') };
  },
  // A tool call, then its result sent back with the assistant turn as the SDK gave it.
  tools: async ({ model, content, result, thinking }) => {
    const extra = { tools: [weather], ...(thinking ? { thinking: { type: 'enabled', budget_tokens: 2000 } } : {}) };
    const first = await client.messages.stream(ask(model, content, extra)).finalMessage();
    const call = first.content.find((block) => block.type === 'tool_use');
    const second = await client.messages.create({
      ...ask(model, content, extra),
      messages: [
        { role: 'user', content },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: result }] },
      ],
    });
    return { first, second };
  },
  count: async ({ model, content }) =>
    await client.messages.countTokens({ model, messages: [{ role: 'user', content }] }),
});
