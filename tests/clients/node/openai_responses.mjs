// The `openai` npm SDK's Responses API pointed at Tollgate's base URL: a response whole, one
// streamed (accumulated by the SDK's own stream helper), and a function call answered in a
// second turn that names the first with previous_response_id.
import OpenAI from 'openai';
import { apiKey, baseURL, main, weatherSchema } from './common.mjs';

const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const weather = { type: 'function', name: 'get_weather', description: 'Current weather in a city', parameters: weatherSchema, strict: true };

await main({
  create: async ({ model, input }) => ({ response: await client.responses.create({ model, input }) }),
  stream: async ({ model, input }) => {
    const stream = client.responses.stream({ model, input });
    const kinds = [];
    stream.on('event', (event) => kinds.push(event.type));
    const response = await stream.finalResponse();
    return { response, kinds };
  },
  tools: async ({ model, input, result }) => {
    const first = await client.responses.create({ model, input, tools: [weather], tool_choice: 'required' });
    const call = first.output.find((item) => item.type === 'function_call');
    const second = await client.responses.create({
      model,
      tools: [weather],
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: result }],
    });
    return { first, second };
  },
});
