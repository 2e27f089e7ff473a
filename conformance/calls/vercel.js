'use strict';
// The calls an application makes through the Vercel AI SDK against the
// stand-in provider, in order, with the SDK's telemetry on.

const prompt = 'Which connection spent the most this month?';
const telemetry = { isEnabled: true };

function vercelCalls(baseURL) {
  const { generateText, streamText, embed } = require('ai');
  const { createOpenAI } = require('@ai-sdk/openai');
  const { createAnthropic } = require('@ai-sdk/anthropic');
  const openai = createOpenAI({ apiKey: 'sk-standin', baseURL: `${baseURL}/v1` });
  const anthropic = createAnthropic({ apiKey: 'sk-ant-standin', baseURL: `${baseURL}/v1` });

  const generate = (model) => generateText({
    model, prompt, maxRetries: 0, experimental_telemetry: telemetry,
  });
  const stream = async (model) => {
    let failure;
    const result = streamText({
      model, prompt, maxRetries: 0, experimental_telemetry: telemetry,
      onError: ({ error }) => { failure = error; },
    });
    for await (const part of result.textStream) void part;
    await result.usage;
    if (failure) throw failure;
  };

  return [
    { name: 'generateText responses gpt-4o-mini', run: () => generate(openai('gpt-4o-mini')) },
    { name: 'generateText chat gpt-4o-mini', run: () => generate(openai.chat('gpt-4o-mini')) },
    { name: 'streamText chat gpt-4o-mini', run: () => stream(openai.chat('gpt-4o-mini')) },
    { name: 'generateText claude-sonnet-4-5', run: () => generate(anthropic('claude-sonnet-4-5')) },
    { name: 'streamText claude-sonnet-4-5', run: () => stream(anthropic('claude-sonnet-4-5')) },
    {
      name: 'embed text-embedding-3-small',
      run: () => embed({
        model: openai.textEmbeddingModel('text-embedding-3-small'),
        value: 'monthly usage per connection', maxRetries: 0, experimental_telemetry: telemetry,
      }),
    },
    {
      name: 'generateText chat gpt-4o-mini-ratelimit',
      run: () => generate(openai.chat('gpt-4o-mini-ratelimit')),
    },
    {
      name: 'generateText chat gpt-4o-mini-blocked',
      run: () => generate(openai.chat('gpt-4o-mini-blocked')),
    },
    {
      name: 'generateText chat gpt-4o-mini-filter',
      run: () => generate(openai.chat('gpt-4o-mini-filter')),
    },
  ];
}

module.exports = { vercelCalls };
