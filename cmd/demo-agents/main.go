// Command demo-agents plays a few AI agents of two organizations, initech
// and umbrella, calling OpenAI and Anthropic models. It sends one
// OpenTelemetry GenAI span per call to a collector over OTLP, the way real
// instrumentation libraries do, then prints what it sent per organization,
// connection and model, so the figures can be compared with the
// collector's /metrics.
//
// The calls follow a fixed script (script.go): every run sends the same
// tokens and the same cost. The spans end at the current time, so the
// collector books them in the current month and its counters grow by the
// printed totals with every run.
//
// Usage:
//
//	demo-agents [-endpoint host:port] [-http] [-rounds N] [-summary-json FILE]
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Attributes of the OpenTelemetry GenAI semantic conventions, and the
// resource attribute that names the organization.
const (
	keyOperation     = attribute.Key("gen_ai.operation.name")
	keyProvider      = attribute.Key("gen_ai.provider.name")
	keyRequestModel  = attribute.Key("gen_ai.request.model")
	keyResponseModel = attribute.Key("gen_ai.response.model")
	keyStream        = attribute.Key("gen_ai.request.stream")
	keyInputTokens   = attribute.Key("gen_ai.usage.input_tokens")
	keyOutputTokens  = attribute.Key("gen_ai.usage.output_tokens")
	keyCacheRead     = attribute.Key("gen_ai.usage.cache_read.input_tokens")
	keyFinishReasons = attribute.Key("gen_ai.response.finish_reasons")
	keyTenant        = attribute.Key("tenant.id")
)

const scopeName = "github.com/usageledger/usageledger/cmd/demo-agents"

// sendTimeout bounds how long one export keeps retrying, so a collector
// that is not running is reported within seconds.
const sendTimeout = 5 * time.Second

func main() {
	endpoint := flag.String("endpoint", "",
		"collector OTLP `host:port` (default localhost:4317, or localhost:4318 with -http)")
	useHTTP := flag.Bool("http", false, "send OTLP/HTTP instead of OTLP/gRPC")
	rounds := flag.Int("rounds", 1, "play the script `N` times")
	summaryJSON := flag.String("summary-json", "", "also write the totals as JSON to `FILE`")
	flag.Parse()

	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *rounds < 1 {
		fmt.Fprintf(os.Stderr, "demo-agents: -rounds must be at least 1, got %d\n", *rounds)
		os.Exit(2)
	}
	protocol, defaultEndpoint := "OTLP/gRPC", "localhost:4317"
	if *useHTTP {
		protocol, defaultEndpoint = "OTLP/HTTP", "localhost:4318"
	}
	*endpoint = cmp.Or(*endpoint, defaultEndpoint)

	newExporter := func(ctx context.Context) (sdktrace.SpanExporter, error) {
		return newOTLPExporter(ctx, *endpoint, *useHTTP)
	}
	if err := play(context.Background(), *rounds, newExporter); err != nil {
		fmt.Fprintf(os.Stderr, "demo-agents: cannot send spans to %s over %s: %v\n",
			*endpoint, protocol, err)
		fmt.Fprintln(os.Stderr, "Is the collector running and listening there?")
		os.Exit(1)
	}

	s := summarize(*rounds)
	fmt.Printf("Sent %d calls of %d agents to %s over %s in %d round%s.\n\n",
		*rounds*len(script), len(agents), *endpoint, protocol, *rounds, plural(*rounds))
	s.print(os.Stdout)
	if *summaryJSON != "" {
		if err := s.writeJSON(*summaryJSON); err != nil {
			fmt.Fprintf(os.Stderr, "demo-agents: %v\n", err)
			os.Exit(1)
		}
	}
	fmt.Println("\nCompare with the collector's counters (they add up over runs in a month):")
	fmt.Println(`  curl -s localhost:9464/metrics | grep 'org="initech"'`)
}

// newOTLPExporter sends spans to the collector at endpoint without TLS,
// retrying for at most sendTimeout.
func newOTLPExporter(
	ctx context.Context,
	endpoint string,
	useHTTP bool,
) (sdktrace.SpanExporter, error) {
	if useHTTP {
		return otlptracehttp.New(ctx,
			otlptracehttp.WithEndpoint(endpoint),
			otlptracehttp.WithInsecure(),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{
				Enabled: true, InitialInterval: 250 * time.Millisecond,
				MaxInterval: time.Second, MaxElapsedTime: sendTimeout,
			}))
	}
	return otlptracegrpc.New(ctx,
		otlptracegrpc.WithEndpoint(endpoint),
		otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{
			Enabled: true, InitialInterval: 250 * time.Millisecond,
			MaxInterval: time.Second, MaxElapsedTime: sendTimeout,
		}))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// agentRun is one agent's own tracer provider, with its own resource, as a
// separately deployed agent would have.
type agentRun struct {
	agent    agent
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	delivery *delivery
	sent     int
}

// play sends the script rounds times, one span per call, and returns once
// every span has reached the exporter's destination or sending has failed.
func play(
	ctx context.Context,
	rounds int,
	newExporter func(context.Context) (sdktrace.SpanExporter, error),
) error {
	runs := make(map[string]*agentRun, len(agents))
	for _, a := range agents {
		exp, err := newExporter(ctx)
		if err != nil {
			return errors.Join(fmt.Errorf("create exporter: %w", err), closeAll(ctx, runs))
		}
		d := &delivery{SpanExporter: exp}
		p := sdktrace.NewTracerProvider(
			sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL,
				semconv.ServiceName(a.name), keyTenant.String(a.org))),
			// Blocking: a long run waits for the exporter rather than drop spans.
			sdktrace.WithBatcher(d, sdktrace.WithBlocking()),
		)
		runs[a.name] = &agentRun{agent: a, provider: p, tracer: p.Tracer(scopeName), delivery: d}
	}

	for range rounds {
		for _, c := range script {
			r := runs[c.agent.name]
			emit(ctx, r.tracer, c)
			r.sent++
		}
	}
	return closeAll(ctx, runs)
}

// emit records one call as a CLIENT span that ends now.
func emit(ctx context.Context, tracer trace.Tracer, c call) {
	m := models[c.model]
	end := time.Now()
	attrs := []attribute.KeyValue{
		keyOperation.String(c.op),
		keyProvider.String(m.provider),
		keyRequestModel.String(c.model),
		semconv.ServerAddress(m.server),
		semconv.ServerPort(443),
	}
	if c.stream {
		attrs = append(attrs, keyStream.Bool(true))
	}
	_, span := tracer.Start(ctx, c.op+" "+c.model,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithTimestamp(end.Add(-c.duration())),
		trace.WithAttributes(attrs...))

	if c.outcome == ok {
		span.SetAttributes(keyResponseModel.String(c.model), keyInputTokens.Int64(c.input))
		if c.op == chat {
			span.SetAttributes(keyOutputTokens.Int64(c.output),
				keyFinishReasons.StringSlice([]string{c.finish}))
		}
		if c.cacheRead > 0 {
			span.SetAttributes(keyCacheRead.Int64(c.cacheRead))
		}
	} else {
		err := c.failure()
		span.RecordError(err, trace.WithTimestamp(end))
		span.SetAttributes(semconv.ErrorTypeKey.String(err.kind))
		span.SetStatus(codes.Error, err.Error())
	}
	span.End(trace.WithTimestamp(end))
}

// closeAll flushes and shuts down every agent's provider, all at once so a
// collector that is down costs one timeout, not one per agent.
func closeAll(ctx context.Context, runs map[string]*agentRun) error {
	ctx, cancel := context.WithTimeout(ctx, 3*sendTimeout)
	defer cancel()

	var wg sync.WaitGroup
	errs := make([]error, len(agents))
	for i, a := range agents {
		r, found := runs[a.name]
		if !found {
			continue
		}
		wg.Go(func() { errs[i] = r.close(ctx) })
	}
	wg.Wait()

	// Agents share one collector, so they usually fail for the same reason:
	// show the first failure rather than the same one four times.
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 1 {
		return fmt.Errorf("%w (%d of %d agents failed)", failed[0], len(failed), len(agents))
	}
	return errors.Join(failed...)
}

func (r *agentRun) close(ctx context.Context) error {
	flushErr := errors.Join(r.provider.ForceFlush(ctx), r.provider.Shutdown(ctx))
	accepted, exportErr := r.delivery.result()
	switch {
	case exportErr != nil:
		return fmt.Errorf("%s: %w", r.agent.name, exportErr)
	case flushErr != nil:
		return fmt.Errorf("%s: %w", r.agent.name, flushErr)
	case accepted != r.sent:
		return fmt.Errorf("%s: %d of %d spans were exported", r.agent.name, accepted, r.sent)
	}
	return nil
}

// delivery wraps an exporter and keeps the number of spans it delivered and
// its first failure. The batch processor reports a failed background export
// only to the global error handler, and ForceFlush only the last batch; the
// printed totals mean nothing unless every span arrived.
type delivery struct {
	sdktrace.SpanExporter

	mu       sync.Mutex
	accepted int
	err      error
}

func (d *delivery) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := d.SpanExporter.ExportSpans(ctx, spans)

	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.err = cmp.Or(d.err, err)
		return err
	}
	d.accepted += len(spans)
	return nil
}

func (d *delivery) result() (accepted int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.accepted, d.err
}
