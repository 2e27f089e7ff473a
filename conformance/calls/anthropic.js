'use strict';
// The calls an Anthropic client makes against the stand-in provider, in
// order. Every library that instruments `@anthropic-ai/sdk` runs these.

const messages = [{ role: 'user', content: 'Summarize the cost of this connection.' }];

// anthropicCalls returns the calls, each a name the Go test knows and a
// function that makes it. The client is created after the instrumentation
// is registered, so the instrumentation sees the module load.
function anthropicCalls(baseURL) {
  const Anthropic = require('@anthropic-ai/sdk');
  const client = new Anthropic({ apiKey: 'sk-ant-standin', baseURL, maxRetries: 0 });

  const create = (model) => client.messages.create({ model, max_tokens: 256, messages });

  return [
    { name: 'messages claude-sonnet-4-5', run: () => create('claude-sonnet-4-5') },
    {
      name: 'messages streamed claude-sonnet-4-5',
      run: async () => {
        const stream = await client.messages.create({
          model: 'claude-sonnet-4-5', max_tokens: 256, messages, stream: true,
        });
        for await (const event of stream) void event;
      },
    },
    { name: 'messages claude-sonnet-4-5-ratelimit', run: () => create('claude-sonnet-4-5-ratelimit') },
    { name: 'messages claude-sonnet-4-5-blocked', run: () => create('claude-sonnet-4-5-blocked') },
  ];
}

module.exports = { anthropicCalls };
