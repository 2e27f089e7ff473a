package stores

import (
	"testing"
	"time"
)

// expected holds the hand-computed result of every panel query, keyed
// "dashboard / panel / query index", and of every alert rule's expression.
type expected struct {
	panels map[string]want
	alerts map[string]want
}

// l builds a label set from pairs.
func l(pairs ...string) map[string]string {
	m := make(map[string]string, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return m
}

func s(v float64, pairs ...string) sample { return sample{labels: l(pairs...), value: v} }

// both is a result that is the same on the scraped and the remote-write feed.
func both(series ...sample) want { return want{series: series, sameOnBoth: true} }

// bothWithin is a result that is the same on both feeds within tol: the
// budgets' forecast, which moves with the time of each read.
func bothWithin(tol float64, series ...sample) want {
	return want{series: series, sameOnBoth: true, tol: tol}
}

// scrapedOnly is a result of the collector's own telemetry, which only the
// scraped stores hold; the remote-write stores have no series.
func scrapedOnly(tol float64, series ...sample) want { return want{series: series, tol: tol} }

// live are the figures of the live rounds the health panels show.
type live struct {
	// window is the rates' window in seconds: it holds the second round
	// and not the first.
	window float64
	// p99 is the 99th percentile of the second round's commit latency, as
	// histogram_quantile computes it from the collector's own buckets, and
	// bucketWidth the width of the bucket it falls in.
	p99, bucketWidth float64
}

// liveFigures works out the figures of the health panels from the window and
// the commit latency buckets the collector itself reported for the second
// round.
func liveFigures(t *testing.T, window int, secondRound []bucket) live {
	t.Helper()
	p99, width, err := quantile(0.99, secondRound)
	if err != nil {
		t.Fatalf("commit latency of the second round: %v", err)
	}
	return live{window: float64(window), p99: p99, bucketWidth: width}
}

// rate is the per-second rate of a counter that grew by delta within the
// window, as both stores compute it, with its tolerance. The stores sample
// every second, so the samples nearest the window's ends are up to a second
// inside it (Prometheus extrapolates from them, by at most the sampled
// interval's share of the window) or just before it (VictoriaMetrics
// divides by the time from the sample before the window to the last one):
// the rate lies between delta / (window + 1) and delta / (window − 2); half
// a second more is left for scrapes that run late.
func (l live) rate(delta float64) want {
	v := delta / l.window
	return scrapedOnly(v*2.5/(l.window-2.5), s(v))
}

// forecastUSD is the exporter's month-end forecast, recomputed from its
// documented formula: spend × month length / max(elapsed, 1 day).
func forecastUSD(spend float64, m months, at time.Time) float64 {
	month := m.s0.AddDate(0, 1, 0).Sub(m.s0)
	elapsed := max(at.Sub(m.s0), 24*time.Hour)
	return spend * float64(month) / float64(elapsed)
}

// expectations follow from the table of writeTraffic. acme's month m0:
// support-bot 100 + 50 calls (40 blocked, 5 rate-limited, 2 errors), 12000 +
// 6000 tokens, 60 + 5 USD; search 40 calls, 8800 tokens, 25 USD; newbot 3
// unpriced calls, 0 USD. So acme has 193 calls, 26800 tokens and 90 USD in
// m0; in m1 support-bot 200 calls for 40 USD and search 40 for 10 USD.
//
// The live rounds add, per round, 8 calls of initech's connection for
// round.costUSD and 1 call in organization default, a call of stray-agent;
// of them, 1 to a model without a price. The window of the rates holds the
// second round only.
func expectations(m months, at time.Time, lv live) expected {
	const org = "Usage Ledger / Organization / "
	const conn = "Usage Ledger / Connection / "
	const ins = "Usage Ledger / Insights / "
	const health = "Usage Ledger / Collector health / "
	legacyLastSeen := m.s2.AddDate(0, 0, 14).Add(12 * time.Hour)
	idleSeconds := at.Sub(legacyLastSeen).Seconds()

	panels := map[string]want{
		org + "Requests / 0":     both(s(193)),
		org + "Tokens / 0":       both(s(26800)),
		org + "Cost / 0":         both(s(90)),
		org + "Blocked / 0":      both(s(40)),
		org + "Rate limited / 0": both(s(5)),
		org + "Errors / 0":       both(s(2)),
		org + "Connections / 0": both(s(150, "connection", "support-bot"), s(40, "connection", "search"),
			s(3, "connection", "newbot")),
		org + "Connections / 1": both(s(65, "connection", "support-bot"), s(25, "connection", "search"),
			s(0, "connection", "newbot")),
		org + "Connections / 2": both(s(65.0/90, "connection", "support-bot"), s(25.0/90, "connection", "search"),
			s(0, "connection", "newbot")),
		// 65 − 40, 25 − 10, and newbot had no cost in m1.
		org + "Connections / 3": both(s(25, "connection", "support-bot"), s(15, "connection", "search"),
			s(0, "connection", "newbot")),
		org + "Connections / 4": both(s(40.0/150, "connection", "support-bot"), s(0, "connection", "search"),
			s(0, "connection", "newbot")),
		org + "Connections / 5": both(s(65.0/150, "connection", "support-bot"), s(25.0/40, "connection", "search"),
			s(0, "connection", "newbot")),
		org + "Chargeback by team and cost center / 0": both(s(65, "team", "care", "cost_center", "cc-100"),
			s(25, "team", "search", "cost_center", "cc-200"), s(0, "team", "lab", "cost_center", "cc-300")),
		// m1: 40 + 10; m2: legacy 1; m3: legacy 2.
		org + "Cost, last twelve months / 0": both(s(90, "month", m.m0), s(50, "month", m.m1),
			s(1, "month", m.m2), s(2, "month", m.m3)),
		org + "Requests, last twelve months / 0": both(s(193, "month", m.m0), s(240, "month", m.m1),
			s(10, "month", m.m2), s(5, "month", m.m3)),

		conn + "Requests / 0":                    both(s(150)),
		conn + "Tokens / 0":                      both(s(18000)),
		conn + "Cost / 0":                        both(s(65)),
		conn + "Blocked / 0":                     both(s(40)),
		conn + "Rate limited / 0":                both(s(5)),
		conn + "Errors / 0":                      both(s(2)),
		conn + "Requests and cost by month / 0":  both(s(150, "month", m.m0), s(200, "month", m.m1)),
		conn + "Requests and cost by month / 1":  both(s(65, "month", m.m0), s(40, "month", m.m1)),
		conn + "Accumulated cost this month / 0": both(s(65)),
		conn + "By model / 0":                    both(s(100, "model", "gpt-4o"), s(50, "model", "gpt-4o-mini")),
		conn + "By model / 1":                    both(s(12000, "model", "gpt-4o"), s(6000, "model", "gpt-4o-mini")),
		conn + "By model / 2":                    both(s(60, "model", "gpt-4o"), s(5, "model", "gpt-4o-mini")),

		// legacy called 10 times in m2 and 5 in m3, never in m0.
		ins + "Idle connections / 0": both(s(15, "org", "acme", "connection", "legacy")),
		// VictoriaMetrics' time() can lag the query time by up to a second.
		ins + "Last seen long ago / 0": {series: []sample{s(idleSeconds/86400, "org", "acme", "connection", "legacy")},
			sameOnBoth: true, tol: 2.0 / 86400},
		ins + "Disproportionate consumers / 0": both(s(65.0/90, "org", "acme", "connection", "support-bot")),
		ins + "Guardrail signal / 0":           both(s(40.0/150, "org", "acme", "connection", "support-bot")),
		// Cost per request m0 over m1: support-bot (65/150)/(40/200), search (25/40)/(10/40).
		ins + "Cost growing faster than requests / 0": both(
			s((65.0/150)/(40.0/200), "org", "acme", "connection", "support-bot"),
			s((25.0/40)/(10.0/40), "org", "acme", "connection", "search")),
		ins + "Unpriced and usage-missing calls / 0": both(
			s(3, "org", "acme", "connection", "newbot", "model", "mystery-model")),
		ins + "Unpriced and usage-missing calls / 1": both(
			s(1, "org", "acme", "connection", "newbot", "model", "mystery-model")),
		// acme spent 90 of 150, support-bot 65 of 50.
		// Both feeds carry the budgets: /metrics and the receiver, which
		// has the same budgets.
		ins + "Budgets / 0": both(s(0.6, "org", "acme", "month", m.m0),
			s(1.3, "org", "acme", "connection", "support-bot", "month", m.m0)),
		ins + "Budgets / 1": bothWithin(1e-3, s(forecastUSD(90, m, at)/150, "org", "acme", "month", m.m0),
			s(forecastUSD(65, m, at)/50, "org", "acme", "connection", "support-bot", "month", m.m0)),

		health + "Malformed spans / 0": lv.rate(round.processorMalformed),
		health + "Malformed spans / 1": lv.rate(round.exporterMalformed),
		health + "Overflow / 0":        lv.rate(round.overflowed),
		health + "Unpriced calls / 0":  lv.rate(round.unpriced),
		health + "Dedup hits / 0":      lv.rate(round.processorDuplicates),
		health + "Dedup hits / 1":      lv.rate(round.exporterDuplicates),
		// No commit failed: the counter the exporter starts at 0 stays
		// there, on the scraped stores (the remote-write feed carries the
		// ledger, not the collector's telemetry).
		health + "Commit failures / 0": scrapedOnly(0, s(0)),
		// The buckets of the stores' rates are those of the collector, all
		// scaled alike but for extrapolation at the window's start, which
		// Prometheus stops at zero for a bucket that was empty then.
		health + "Commit latency / 0": scrapedOnly(0.15*lv.bucketWidth, s(lv.p99)),
		// 7 in the ledger, 1 of stray-agent in each round.
		health + "Calls in organization default this month / 0": both(s(7 + 2*round.defaultRequests)),
	}

	forecastAlerts := []sample{s(forecastUSD(65, m, at), "org", "acme", "connection", "support-bot", "month", m.m0)}
	if forecastUSD(90, m, at) > 150 {
		forecastAlerts = append(forecastAlerts, s(forecastUSD(90, m, at), "org", "acme", "month", m.m0))
	}
	alerts := map[string]want{
		"UsageLedgerBudgetNearlySpent": both(
			s(1.3, "org", "acme", "connection", "support-bot", "month", m.m0)),
		"UsageLedgerBudgetSpent": both(
			s(1.3, "org", "acme", "connection", "support-bot", "month", m.m0)),
		"UsageLedgerForecastOverBudget": bothWithin(0.05, forecastAlerts...),
		"UsageLedgerConnectionIdle": {series: []sample{s(idleSeconds, "org", "acme", "connection", "legacy")},
			sameOnBoth: true, tol: 2},
		// Every series appeared in the stores within the hour, so the last
		// hour's growth is the whole counter, on both stores alike. Every
		// month had calls in that sense: acme's support-bot has 65 of 90 USD
		// in m0 and 40 of 50 in m1; legacy's months, globex, default and the
		// live rounds' initech are under the 10 USD floor.
		"UsageLedgerDisproportionateConsumer": both(
			s(65.0/90, "org", "acme", "connection", "support-bot", "month", m.m0),
			s(40.0/50, "org", "acme", "connection", "support-bot", "month", m.m1)),
		// support-bot: 40 blocked of 100 + 50 + 200 calls (m1's count too),
		// 0.114, under 0.2.
		"UsageLedgerHighBlockedRatio": both(),
		// newbot's 3 and the house model's 1 in each live round, all within
		// the hour.
		"UsageLedgerUnpricedCalls": both(
			s(3, "org", "acme", "connection", "newbot", "model", "mystery-model"),
			s(2*round.unpriced, "org", liveOrg, "connection", liveConnection, "model", houseModel)),
		"UsageLedgerDefaultOrganization": both(s(7, "connection", "unnamed"),
			s(2*round.defaultRequests, "connection", strayAgent+"/openai")),
		// A healthy ledger: no commit failed, and every wait was far under
		// a second (the second round's p99 is logged). The rules' own
		// tests (deploy/prometheus) show them firing.
		"UsageLedgerCommitsFailing": both(),
		"UsageLedgerCommitsSlow":    both(),
	}
	return expected{panels: panels, alerts: alerts}
}
