'use strict';
// A stand-in model provider on loopback. It answers the OpenAI routes
// (chat completions, also streamed, responses, embeddings) and Anthropic
// messages (also streamed) with fixed usage, so every token count and cost
// the collector derives can be checked against numbers known in advance.
//
// The model name chooses the outcome:
//   contains "ratelimit" → HTTP 429, rate_limit_exceeded (the model never ran)
//   contains "blocked"   → HTTP 400, content_policy_violation,
//                          "Request blocked by guardrail policy"
//   contains "filter"    → HTTP 200, finish reason content_filter, chat usage
//                          (chat completions only: Anthropic messages have
//                          no such stop reason)
//
// Run alone it prints "listening http://127.0.0.1:PORT" and serves until
// its standard input closes.

const http = require('node:http');

// Fixed usage, as testdata/real-clients/README.md lists it.
const usage = {
  chat: { prompt: 120, cached: 20, completion: 30, reasoning: 0 },
  responses: { input: 200, cached: 50, output: 40, reasoning: 10 },
  embeddings: { prompt: 16 },
  // Anthropic counts input without the cache.
  messages: { input: 100, output: 25, cacheCreation: 300, cacheRead: 400 },
};

let sequence = 0;

function nextID(prefix) {
  sequence += 1;
  return `${prefix}${sequence.toString(36).padStart(8, '0')}`;
}

function sendJSON(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': nextID('req_'),
  });
  res.end(text);
}

function sendEvents(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const { event, data } of events) {
    if (event) res.write(`event: ${event}\n`);
    res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  }
  res.end();
}

// refusal answers the error routes in the dialect of the API called, or
// returns false when the model name asks for a normal answer.
function refusal(res, api, model) {
  if (model.includes('ratelimit')) {
    const message = 'Rate limit reached for requests';
    if (api === 'anthropic') {
      sendJSON(res, 429, { type: 'error', error: { type: 'rate_limit_error', message } });
    } else {
      sendJSON(res, 429, {
        error: { message, type: 'requests', param: null, code: 'rate_limit_exceeded' },
      });
    }
    return true;
  }
  if (model.includes('blocked')) {
    const message = 'Request blocked by guardrail policy';
    if (api === 'anthropic') {
      sendJSON(res, 400, {
        type: 'error',
        error: { type: 'invalid_request_error', code: 'content_policy_violation', message },
      });
    } else {
      sendJSON(res, 400, {
        error: {
          message, type: 'invalid_request_error', param: null, code: 'content_policy_violation',
        },
      });
    }
    return true;
  }
  return false;
}

function chatUsage() {
  const u = usage.chat;
  return {
    prompt_tokens: u.prompt,
    completion_tokens: u.completion,
    total_tokens: u.prompt + u.completion,
    prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoning, audio_tokens: 0 },
  };
}

function chatCompletions(req, res, body) {
  const model = String(body.model || '');
  if (refusal(res, 'openai', model)) return;
  const finish = model.includes('filter') ? 'content_filter' : 'stop';
  const text = finish === 'content_filter' ? '' : 'The ledger counts every call.';
  const id = nextID('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  if (!body.stream) {
    sendJSON(res, 200, {
      id, object: 'chat.completion', created, model,
      choices: [{
        index: 0, message: { role: 'assistant', content: text, refusal: null },
        logprobs: null, finish_reason: finish,
      }],
      usage: chatUsage(),
      system_fingerprint: 'fp_standin',
    });
    return;
  }
  const chunk = (choices, extra) => ({
    id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_standin',
    choices, ...extra,
  });
  const events = [
    { data: chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]) },
  ];
  for (const word of text.split(/(?<= )/).filter(Boolean)) {
    events.push({ data: chunk([{ index: 0, delta: { content: word }, finish_reason: null }]) });
  }
  events.push({ data: chunk([{ index: 0, delta: {}, finish_reason: finish }]) });
  if (body.stream_options && body.stream_options.include_usage) {
    events.push({ data: chunk([], { usage: chatUsage() }) });
  }
  events.push({ data: '[DONE]' });
  sendEvents(res, events);
}

function responses(req, res, body) {
  const model = String(body.model || '');
  if (refusal(res, 'openai', model)) return;
  const u = usage.responses;
  sendJSON(res, 200, {
    id: nextID('resp_'), object: 'response', created_at: Math.floor(Date.now() / 1000),
    status: 'completed', error: null, incomplete_details: null, model,
    output: [{
      type: 'message', id: nextID('msg_'), status: 'completed', role: 'assistant',
      content: [{ type: 'output_text', text: 'The ledger counts every call.', annotations: [] }],
    }],
    parallel_tool_calls: true, tool_choice: 'auto', tools: [],
    usage: {
      input_tokens: u.input,
      input_tokens_details: { cached_tokens: u.cached },
      output_tokens: u.output,
      output_tokens_details: { reasoning_tokens: u.reasoning },
      total_tokens: u.input + u.output,
    },
  });
}

function embeddings(req, res, body) {
  const model = String(body.model || '');
  if (refusal(res, 'openai', model)) return;
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const base64 = body.encoding_format === 'base64';
  const vector = [0.25, -0.5, 0.125, 1];
  sendJSON(res, 200, {
    object: 'list', model,
    data: inputs.map((_, index) => ({
      object: 'embedding', index,
      embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    })),
    usage: { prompt_tokens: usage.embeddings.prompt, total_tokens: usage.embeddings.prompt },
  });
}

function messages(req, res, body) {
  const model = String(body.model || '');
  if (refusal(res, 'anthropic', model)) return;
  const u = usage.messages;
  const id = nextID('msg_');
  const text = 'The ledger counts every call.';
  const fullUsage = {
    input_tokens: u.input,
    cache_creation_input_tokens: u.cacheCreation,
    cache_read_input_tokens: u.cacheRead,
    output_tokens: u.output,
  };
  if (!body.stream) {
    sendJSON(res, 200, {
      id, type: 'message', role: 'assistant', model,
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn', stop_sequence: null, usage: fullUsage,
    });
    return;
  }
  sendEvents(res, [
    { event: 'message_start', data: { type: 'message_start', message: {
      id, type: 'message', role: 'assistant', model, content: [],
      stop_reason: null, stop_sequence: null, usage: { ...fullUsage, output_tokens: 1 },
    } } },
    { event: 'content_block_start', data: {
      type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
    { event: 'content_block_delta', data: {
      type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } } },
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    { event: 'message_delta', data: {
      type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: u.output } } },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ]);
}

const routes = {
  '/v1/chat/completions': chatCompletions,
  '/v1/responses': responses,
  '/v1/embeddings': embeddings,
  '/v1/messages': messages,
};

function handle(req, res) {
  const route = routes[new URL(req.url, 'http://127.0.0.1').pathname];
  if (req.method !== 'POST' || !route) {
    sendJSON(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'not_found' } });
    return;
  }
  const parts = [];
  req.on('data', (part) => parts.push(part));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}');
    } catch (err) {
      sendJSON(res, 400, { error: { message: `request body is not JSON: ${err.message}` } });
      return;
    }
    route(req, res, body);
  });
}

// startProvider listens on a free loopback port and resolves to the server.
function startProvider(port = 0) {
  return new Promise((resolve, reject) => {
    const server = http.createServer(handle);
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

module.exports = { startProvider, usage };

if (require.main === module) {
  startProvider(Number(process.env.PROVIDER_PORT || 0)).then((server) => {
    process.stdout.write(`listening http://127.0.0.1:${server.address().port}\n`);
    process.stdin.resume();
    process.stdin.on('end', () => server.close());
  });
}
