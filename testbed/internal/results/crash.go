package results

import (
	"fmt"
	"strings"
)

// CrashRow is one variant of the crash rounds: the collector stopped at a
// random moment under load and restarted on the same ledger file (and
// sending queue), round after round, with the client resending every
// export it did not see acknowledged.
type CrashRow struct {
	Variant string `json:"variant"`
	// Rounds is how many rounds ran, out of RoundsPlanned (fewer when the
	// time bound ended the variant early); each round stops the collector
	// once, so it is also the number of kills or graceful stops.
	Rounds        int `json:"rounds"`
	RoundsPlanned int `json:"rounds_planned"`
	// StoppedInFlight counts the rounds whose stop came while at least one
	// export call was unanswered; InFlight adds those calls up.
	StoppedInFlight int   `json:"stops_with_exports_in_flight"`
	InFlight        int64 `json:"exports_in_flight_at_stops"`
	// Acked is the spans acknowledged to the client; Retried the spans of
	// export attempts that failed and were sent again.
	Acked   int64 `json:"spans_acknowledged"`
	Retried int64 `json:"spans_retried"`
	// Replayed is the spans the persistent sending queue held at the
	// restarts and delivered again (0 without a queue); Duplicates the
	// spans the ledger recognized as already counted.
	Replayed   int64 `json:"spans_replayed"`
	Duplicates int64 `json:"duplicate_spans_skipped"`
	// Lost is the calls acknowledged but missing from the ledger, Doubled
	// the calls the ledger holds more often than they were sent.
	Lost    int64   `json:"calls_lost"`
	Doubled int64   `json:"calls_doubled"`
	Seconds float64 `json:"seconds"`
	// PeakRSSMiB and PeakAnonMiB are the highest resident and anonymous
	// memory of any of the collectors; LedgerMiB the ledger file's size at
	// the end (the collectors map it, so most of their RSS is this file).
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
	PeakAnonMiB float64 `json:"peak_rss_anon_mib"`
	LedgerMiB   float64 `json:"ledger_file_mib"`
	Seed        uint64  `json:"seed"`
	// Correctness says how the ledger compared with what was sent.
	Correctness string `json:"correctness"`
}

// AddCrash records the outcome of one crash-round variant.
func (r *Report) AddCrash(row CrashRow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Crash = append(r.Crash, row)
}

// crashMarkdown renders the crash rounds as a table of their own; r.mu is
// held.
func (r *Report) crashMarkdown(b *strings.Builder) {
	if len(r.Crash) == 0 {
		return
	}
	b.WriteString("\nCrash rounds:\n\n")
	b.WriteString("| variant | rounds | stops with exports in flight | spans acknowledged | spans retried | spans replayed | duplicates skipped | lost | doubled | seconds | peak RSS MiB (anonymous) | ledger file MiB | seed | counters |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, c := range r.Crash {
		rounds := fmt.Sprintf("%d", c.Rounds)
		if c.Rounds < c.RoundsPlanned {
			rounds = fmt.Sprintf("%d of %d", c.Rounds, c.RoundsPlanned)
		}
		fmt.Fprintf(b, "| %s | %s | %d (%d exports) | %d | %d | %d | %d | %d | %d | %.0f | %.0f (%.0f) | %.0f | %d | %s |\n",
			c.Variant, rounds, c.StoppedInFlight, c.InFlight, c.Acked, c.Retried, c.Replayed,
			c.Duplicates, c.Lost, c.Doubled, c.Seconds, c.PeakRSSMiB, c.PeakAnonMiB, c.LedgerMiB,
			c.Seed, c.Correctness)
	}
}
