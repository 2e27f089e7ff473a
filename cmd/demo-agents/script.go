package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"
)

// agent is one application that calls models. Each agent reports under its
// own service name and organization, the way a real deployment would.
type agent struct {
	name string // service.name
	org  string // tenant.id
}

// The agents of the two demo organizations.
var (
	billingAgent    = agent{name: "billing-agent", org: "initech"}
	triageBot       = agent{name: "triage-bot", org: "initech"}
	researchAgent   = agent{name: "research-agent", org: "umbrella"}
	claimsAssistant = agent{name: "claims-assistant", org: "umbrella"}

	agents = []agent{billingAgent, triageBot, researchAgent, claimsAssistant}
)

// model is a model the agents call, with its provider and its list price in
// picodollars per token: 1 USD per million tokens is 1,000,000 pUSD per
// token. The demo sends no cache writes, so their price is left out.
type model struct {
	provider  string // gen_ai.provider.name
	server    string // server.address
	input     int64  // price of an input token that was not read from cache
	cacheRead int64  // price of an input token read from cache
	output    int64  // price of an output token
}

const (
	gpt4oMini       = "gpt-4o-mini"
	embedding3Small = "text-embedding-3-small"
	claudeSonnet45  = "claude-sonnet-4-5"
)

var models = map[string]model{
	// $0.15 input, $0.075 cache read, $0.60 output per million tokens.
	gpt4oMini: {
		provider: "openai", server: "api.openai.com",
		input: 150_000, cacheRead: 75_000, output: 600_000,
	},
	// $0.02 input per million tokens.
	embedding3Small: {
		provider: "openai", server: "api.openai.com",
		input: 20_000,
	},
	// $3 input, $0.30 cache read, $15 output per million tokens.
	claudeSonnet45: {
		provider: "anthropic", server: "api.anthropic.com",
		input: 3_000_000, cacheRead: 300_000, output: 15_000_000,
	},
}

// Operations, as gen_ai.operation.name spells them.
const (
	chat       = "chat"
	embeddings = "embeddings"
)

// outcome is how a call ended.
type outcome int

const (
	ok          outcome = iota // the model answered
	blocked                    // a guardrail refused the prompt; the model never ran
	rateLimited                // the provider throttled the call; the model never ran
)

// providerError is the error an agent's client library raises when a call
// fails. Its kind is the class name the library reports as error.type.
type providerError struct {
	status int
	kind   string
	msg    string
}

func (e providerError) Error() string { return fmt.Sprintf("%d %s", e.status, e.msg) }

var (
	errBlocked     = providerError{400, "BadRequestError", "Request blocked by guardrail policy"}
	errRateLimited = providerError{429, "RateLimitError", "Rate limit exceeded"}
)

// call is one request an agent makes. Input counts every prompt token,
// including those read from cache; failed calls report no usage.
type call struct {
	agent     agent
	op        string
	model     string
	stream    bool
	outcome   outcome
	input     int64
	cacheRead int64
	output    int64
	finish    string // gen_ai.response.finish_reasons, as the provider reports it
}

// script is one round of calls. It never changes, so every run sends the
// same totals. The comments give each answered call's cost in picodollars;
// main_test.go works them out.
var script = []call{
	// initech: billing-agent reads invoices with gpt-4o-mini.
	{agent: billingAgent, op: chat, model: gpt4oMini,
		input: 1200, output: 300, finish: "stop"}, // 360,000,000
	{agent: billingAgent, op: embeddings, model: embedding3Small,
		input: 4000}, // 80,000,000
	{agent: billingAgent, op: chat, model: gpt4oMini, stream: true,
		input: 2000, cacheRead: 1500, output: 400, finish: "stop"}, // 427,500,000
	{agent: billingAgent, op: chat, model: gpt4oMini, outcome: blocked},
	{agent: billingAgent, op: chat, model: gpt4oMini,
		input: 800, output: 50, finish: "tool_calls"}, // 150,000,000

	// initech: triage-bot sorts tickets with Claude, retrying once after a 429.
	{agent: triageBot, op: chat, model: claudeSonnet45, outcome: rateLimited},
	{agent: triageBot, op: chat, model: claudeSonnet45,
		input: 3000, cacheRead: 2000, output: 250, finish: "end_turn"}, // 7,350,000,000
	{agent: triageBot, op: chat, model: claudeSonnet45, stream: true,
		input: 1000, output: 120, finish: "end_turn"}, // 4,800,000,000

	// umbrella: research-agent embeds papers with OpenAI and reads them with Claude.
	{agent: researchAgent, op: embeddings, model: embedding3Small,
		input: 12000}, // 240,000,000
	{agent: researchAgent, op: chat, model: claudeSonnet45, stream: true,
		input: 8000, cacheRead: 6000, output: 900, finish: "end_turn"}, // 21,300,000,000
	{agent: researchAgent, op: chat, model: claudeSonnet45, outcome: blocked},
	{agent: researchAgent, op: chat, model: claudeSonnet45,
		input: 2500, output: 400, finish: "max_tokens"}, // 13,500,000,000

	// umbrella: claims-assistant answers customers with gpt-4o-mini, retrying
	// once after a 429.
	{agent: claimsAssistant, op: chat, model: gpt4oMini,
		input: 900, output: 150, finish: "stop"}, // 225,000,000
	{agent: claimsAssistant, op: chat, model: gpt4oMini, outcome: rateLimited},
	{agent: claimsAssistant, op: chat, model: gpt4oMini, stream: true,
		input: 900, cacheRead: 600, output: 150, finish: "stop"}, // 180,000,000
	{agent: claimsAssistant, op: chat, model: gpt4oMini, outcome: blocked},
}

// connection names the link between the calling agent and the provider, the
// way the collector names it by default.
func (c call) connection() string { return c.agent.name + "/" + models[c.model].provider }

// costPicoUSD is the exact list price of the call. Blocked and rate-limited
// calls never reached the model and cost nothing.
func (c call) costPicoUSD() int64 {
	if c.outcome != ok {
		return 0
	}
	m := models[c.model]
	return (c.input-c.cacheRead)*m.input + c.cacheRead*m.cacheRead + c.output*m.output
}

// duration is how long the call appears to have taken: failed calls return
// at once, answers take longer the more tokens they produce.
func (c call) duration() time.Duration {
	switch {
	case c.outcome != ok:
		return 60 * time.Millisecond
	case c.op == embeddings:
		return 120 * time.Millisecond
	}
	return 300*time.Millisecond + time.Duration(c.output)*8*time.Millisecond
}

// failure is the error the client library raised for a call that did not
// reach the model.
func (c call) failure() providerError {
	if c.outcome == blocked {
		return errBlocked
	}
	return errRateLimited
}

// totals adds up calls. Tokens and cost count what the model processed, so
// a blocked or rate-limited call adds a request and nothing else.
type totals struct {
	Requests    int64 `json:"requests"`
	Blocked     int64 `json:"blocked"`
	RateLimited int64 `json:"rate_limited"`
	Input       int64 `json:"input"`
	Output      int64 `json:"output"`
	CacheRead   int64 `json:"cache_read"`
	CostPicoUSD int64 `json:"cost_picousd"`
}

func (t *totals) add(c call) {
	t.Requests++
	switch c.outcome {
	case blocked:
		t.Blocked++
	case rateLimited:
		t.RateLimited++
	}
	t.Input += c.input
	t.Output += c.output
	t.CacheRead += c.cacheRead
	t.CostPicoUSD += c.costPicoUSD()
}

// row holds the totals of one organization, connection and model, the
// labels org, connection and model of the collector's counters.
type row struct {
	Org        string `json:"org"`
	Connection string `json:"connection"`
	Model      string `json:"model"`
	totals
}

// summary is what a run sent: totals per organization, and per
// organization, connection and model in rows sorted by those labels.
type summary struct {
	Rounds int               `json:"rounds"`
	Orgs   map[string]totals `json:"orgs"`
	Rows   []row             `json:"rows"`
}

// summarize adds up rounds of the script.
func summarize(rounds int) summary {
	s := summary{Rounds: rounds, Orgs: make(map[string]totals)}
	byLabels := make(map[row]*totals)
	for range rounds {
		for _, c := range script {
			org := s.Orgs[c.agent.org]
			org.add(c)
			s.Orgs[c.agent.org] = org

			k := row{Org: c.agent.org, Connection: c.connection(), Model: c.model}
			if byLabels[k] == nil {
				byLabels[k] = new(totals)
			}
			byLabels[k].add(c)
		}
	}

	for k, t := range byLabels {
		k.totals = *t
		s.Rows = append(s.Rows, k)
	}
	slices.SortFunc(s.Rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(a.Org, b.Org),
			cmp.Compare(a.Connection, b.Connection), cmp.Compare(a.Model, b.Model))
	})
	return s
}

// print writes the summary as a table with a total per organization. All
// costs show as many decimals as the most precise one needs, so every
// figure is exact and none is rounded.
func (s summary) print(w io.Writer) {
	decimals := 2
	for _, r := range s.Rows {
		decimals = max(decimals, usdDecimals(r.CostPicoUSD))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(org, connection, model string, t totals) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", org, connection, model,
			t.Requests, t.Blocked, t.RateLimited, t.Input, t.Output, t.CacheRead,
			usd(t.CostPicoUSD, decimals))
	}

	fmt.Fprintln(tw, "org\tconnection\tmodel\trequests\tblocked\trate_limited\t"+
		"input\toutput\tcache_read\tcost_usd")
	for i, r := range s.Rows {
		line(r.Org, r.Connection, r.Model, r.totals)
		if i+1 == len(s.Rows) || s.Rows[i+1].Org != r.Org {
			line(r.Org, "total", "", s.Orgs[r.Org])
		}
	}
	tw.Flush()
}

const picoUSDPerUSD = 1_000_000_000_000

// usd formats picodollars as dollars with the given number of decimals, at
// least as many as usdDecimals returns for the amount, so nothing is rounded.
func usd(pico int64, decimals int) string {
	s := fmt.Sprintf("%d.%012d", pico/picoUSDPerUSD, pico%picoUSDPerUSD)
	return s[:len(s)-12+decimals]
}

// usdDecimals is the number of decimals that show the amount exactly, at
// least two.
func usdDecimals(pico int64) int {
	d := 12
	for d > 2 && pico%10 == 0 {
		pico /= 10
		d--
	}
	return d
}

// writeJSON writes the summary to path, for tests that compare it with the
// collector's counters.
func (s summary) writeJSON(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summary: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}
