// Shared by the client scripts: where the suite is, what to do, how to answer.
// Each script is run as `node <script>.mjs <command>` with TOLLGATE_BASE_URL (the suite's
// `<origin>/v1`), TOLLGATE_API_KEY and TOLLGATE_ARGS (a JSON object) in its environment, and
// prints one JSON object: the command's result, or {"error": {...}} when the client threw.

export const baseURL = process.env.TOLLGATE_BASE_URL;
export const apiKey = process.env.TOLLGATE_API_KEY;
export const args = JSON.parse(process.env.TOLLGATE_ARGS || '{}');
export const command = process.argv[2];

export const weatherSchema = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
};

function describe(error) {
  return {
    name: error?.name,
    message: error?.message,
    statusCode: error?.statusCode,
    type: error?.type,
    modelId: error?.modelId,
    status: error?.status,
  };
}

export async function main(commands) {
  const run = commands[command];
  if (!run) {
    console.error(`unknown command ${command}; one of ${Object.keys(commands).join(', ')}`);
    process.exit(2);
  }
  let result;
  try {
    result = await run(args);
  } catch (error) {
    result = { error: describe(error) };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}
