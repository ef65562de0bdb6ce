// Mastra's `Agent` on the AI SDK's gateway provider, pointed at Tollgate and nothing else changed:
// the model is `createGateway({baseURL: '<origin>/v1/ai', apiKey})(<catalog id>)`.
import { createGateway } from '@ai-sdk/gateway';
import { Agent } from '@mastra/core/agent';
import { createTool } from '@mastra/core/tools';
import { z } from 'zod';
import { apiKey, baseURL, main } from './common.mjs';

const gateway = createGateway({ baseURL: `${new URL(baseURL).origin}/v1/ai`, apiKey });

const weather = createTool({
  id: 'weather',
  description: 'Current weather in a city',
  inputSchema: z.object({ city: z.string() }),
  // Mastra 1 passes the validated input first (older releases wrapped it as `context`).
  execute: async (input) => ({ city: input.city ?? input.context?.city, forecast: 'sunny' }),
});

function agent(model, tools = {}) {
  return new Agent({
    id: 'tollgate-suite',
    name: 'Tollgate suite agent',
    instructions: 'Be brief.',
    model: gateway(model),
    tools,
  });
}

const calls = (list) => (list ?? []).map((c) => ({ name: c.payload?.toolName ?? c.toolName, input: c.payload?.args ?? c.input ?? c.args }));
const results = (list) => (list ?? []).map((r) => r.payload?.result ?? r.output ?? r.result);

await main({
  generate: async ({ model, prompt }) => {
    const result = await agent(model).generate(prompt);
    return { text: result.text, finishReason: result.finishReason, usage: result.usage };
  },
  stream: async ({ model, prompt }) => {
    const stream = await agent(model).stream(prompt);
    const deltas = [];
    for await (const text of stream.textStream) deltas.push(text);
    return { deltas, text: await stream.text, finishReason: await stream.finishReason, usage: await stream.usage };
  },
  // The model calls the tool, Mastra runs it and sends its result back for the final answer.
  tools: async ({ model, prompt }) => {
    const result = await agent(model, { weather }).generate(prompt);
    return {
      text: result.text,
      finishReason: result.finishReason,
      steps: result.steps?.length ?? null,
      toolCalls: calls(result.toolCalls ?? result.steps?.flatMap((s) => s.toolCalls)),
      toolResults: results(result.toolResults ?? result.steps?.flatMap((s) => s.toolResults)),
    };
  },
});
