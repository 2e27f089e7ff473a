'use strict';
// Runs one instrumentation library's calls against the stand-in provider
// and exports its spans over OTLP/HTTP JSON.
//
//   node run.js <library>
//
// Environment:
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  where spans go (required)
//   PROVIDER_URL         the stand-in provider; started in-process if unset
//   CONFORMANCE_SERVICE  resource service.name
//   CONFORMANCE_TENANT   resource tenant.id
//   CONFORMANCE_STEP=1   after each call, wait for a line on standard input
//
// After each call its spans are exported, then one JSON line
// {"call": name, "error": message or null} goes to standard output, so
// the reader can look at the collector between calls.

require('./loopback');

const readline = require('node:readline');
const { context, trace } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BatchSpanProcessor, TracerProvider } = require('@opentelemetry/sdk-trace');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { startProvider } = require('./provider');
const { libraries } = require('./libraries');

// openSpans counts spans started but not yet ended, so a call's spans are
// exported only once the library has ended all of them.
class OpenSpans {
  constructor() { this.open = 0; }
  onStart() { this.open += 1; }
  onEnd() { this.open -= 1; }
  forceFlush() { return Promise.resolve(); }
  shutdown() { return Promise.resolve(); }

  // settled resolves once no span is open, or after 200 turns of the event
  // loop with the number still open.
  async settled() {
    for (let turn = 0; turn < 200 && this.open > 0; turn += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    return this.open;
  }
}

async function main() {
  const name = process.argv[2];
  const library = libraries[name];
  if (!library) {
    throw new Error(`unknown library ${JSON.stringify(name)}; expecting one of ${Object.keys(libraries).join(', ')}`);
  }
  const endpoint = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!endpoint) throw new Error('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is not set; expecting http://127.0.0.1:PORT/v1/traces');

  let baseURL = process.env.PROVIDER_URL;
  let provider;
  if (!baseURL) {
    provider = await startProvider();
    baseURL = `http://127.0.0.1:${provider.address().port}`;
  }

  const open = new OpenSpans();
  const tracerProvider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': process.env.CONFORMANCE_SERVICE || name,
      'tenant.id': process.env.CONFORMANCE_TENANT || 'conformance',
    }),
    spanProcessors: [open, new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: endpoint }) })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);

  const calls = library(tracerProvider, baseURL);
  const input = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const step = process.env.CONFORMANCE_STEP === '1';

  for (const call of calls) {
    let error = null;
    try {
      await call.run();
    } catch (err) {
      error = String(err && err.message ? err.message : err);
    }
    const stillOpen = await open.settled();
    await tracerProvider.forceFlush();
    process.stdout.write(`${JSON.stringify({ call: call.name, error, open_spans: stillOpen })}\n`);
    if (step) await input.next();
  }

  await tracerProvider.shutdown();
  if (provider) provider.close();
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
