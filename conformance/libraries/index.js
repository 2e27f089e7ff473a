'use strict';
// The instrumentation libraries under test, by the name the Go test uses.
// Each entry enables the library on the tracer provider and returns the
// calls to make; the clients are loaded only afterwards, so the library's
// module hooks see them load.

const { metrics } = require('@opentelemetry/api');
const { openaiCalls } = require('../calls/openai');
const { anthropicCalls } = require('../calls/anthropic');
const { vercelCalls } = require('../calls/vercel');

// enable turns an instrumentation on for tracerProvider, as the SDK's
// registerInstrumentations does: setting the meter provider also creates
// the instrument's metric instruments, which some libraries need to run.
function enable(instrumentation, tracerProvider) {
  instrumentation.setTracerProvider(tracerProvider);
  instrumentation.setMeterProvider(metrics.getMeterProvider());
  instrumentation.enable();
}

const libraries = {
  'otel-openai': (tracerProvider, baseURL) => {
    const { OpenAIInstrumentation } = require('@opentelemetry/instrumentation-openai');
    enable(new OpenAIInstrumentation(), tracerProvider);
    return openaiCalls(baseURL);
  },
  'openllmetry-openai': (tracerProvider, baseURL) => {
    const { OpenAIInstrumentation } = require('@traceloop/instrumentation-openai');
    enable(new OpenAIInstrumentation(), tracerProvider);
    return openaiCalls(baseURL);
  },
  'openllmetry-anthropic': (tracerProvider, baseURL) => {
    const { AnthropicInstrumentation } = require('@traceloop/instrumentation-anthropic');
    enable(new AnthropicInstrumentation(), tracerProvider);
    return anthropicCalls(baseURL);
  },
  'openinference-openai': (tracerProvider, baseURL) => {
    const { OpenAIInstrumentation } = require('@arizeai/openinference-instrumentation-openai');
    enable(new OpenAIInstrumentation(), tracerProvider);
    return openaiCalls(baseURL);
  },
  'openinference-anthropic': (tracerProvider, baseURL) => {
    const { AnthropicInstrumentation } = require('@arizeai/openinference-instrumentation-anthropic');
    enable(new AnthropicInstrumentation(), tracerProvider);
    return anthropicCalls(baseURL);
  },
  // The Vercel AI SDK traces itself through the global tracer provider.
  'vercel-ai': (tracerProvider, baseURL) => vercelCalls(baseURL),
};

module.exports = { libraries };
