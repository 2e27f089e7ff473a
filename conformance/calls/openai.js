'use strict';
// The calls an OpenAI client makes against the stand-in provider, in
// order. Every library that instruments the `openai` package runs these.

const messages = [{ role: 'user', content: 'How much did support spend this month?' }];

// openaiCalls returns the calls, each a name the Go test knows and a
// function that makes it. The client is created after the instrumentation
// is registered, so the instrumentation sees the module load.
function openaiCalls(baseURL) {
  const OpenAI = require('openai');
  const client = new OpenAI({ apiKey: 'sk-standin', baseURL: `${baseURL}/v1`, maxRetries: 0 });

  const chat = (model) => client.chat.completions.create({ model, messages });

  return [
    { name: 'chat gpt-4o-mini', run: () => chat('gpt-4o-mini') },
    {
      name: 'chat streamed gpt-4o-mini',
      run: async () => {
        const stream = await client.chat.completions.create({
          model: 'gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true },
        });
        for await (const chunk of stream) void chunk;
      },
    },
    {
      name: 'responses gpt-4o-mini',
      run: () => client.responses.create({ model: 'gpt-4o-mini', input: messages[0].content }),
    },
    {
      name: 'embeddings text-embedding-3-small',
      run: () => client.embeddings.create({
        model: 'text-embedding-3-small', input: 'monthly usage per connection',
      }),
    },
    { name: 'chat gpt-4o-mini-ratelimit', run: () => chat('gpt-4o-mini-ratelimit') },
    { name: 'chat gpt-4o-mini-blocked', run: () => chat('gpt-4o-mini-blocked') },
    { name: 'chat gpt-4o-mini-filter', run: () => chat('gpt-4o-mini-filter') },
  ];
}

module.exports = { openaiCalls };
