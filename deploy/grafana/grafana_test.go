package grafana

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDashboardsAreGenerated fails when a JSON file under dashboards/ is not
// what the definitions generate: edit the Go definitions and run
// make dashboards, never the JSON.
func TestDashboardsAreGenerated(t *testing.T) {
	for _, d := range Dashboards() {
		want, err := JSON(d)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join("dashboards", d.File))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "dashboards/%s is stale; run make dashboards", d.File)
	}
}

// TestDashboardsReadBackAsGrafanaModel decodes every file into the SDK's
// dashboard model, which rejects unknown panel and query shapes, and checks
// that every panel has queries with an expression.
func TestDashboardsReadBackAsGrafanaModel(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("dashboards", "*.json"))
	require.NoError(t, err)
	require.Len(t, files, len(Dashboards()), "a JSON file without a definition")
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var model dashboard.Dashboard
		require.NoError(t, json.Unmarshal(raw, &model), f)
		require.NotEmpty(t, model.Panels, f)
		for _, p := range model.Panels {
			require.NotNil(t, p.Panel, f)
			assert.NotEmpty(t, p.Panel.Targets, "%s: panel %q", f, *p.Panel.Title)
		}
	}
}

// TestQueriesUseDeclaredVariables checks that every $variable of a query is a
// variable of its dashboard or one Grafana provides.
func TestQueriesUseDeclaredVariables(t *testing.T) {
	ref := regexp.MustCompile(`\$([a-z_]+)`)
	for _, d := range Dashboards() {
		declared := map[string]bool{"__rate_interval": true, "datasource": true}
		for _, v := range d.Variables {
			declared[v.Name] = true
		}
		for _, p := range d.Panels {
			for _, q := range p.Queries {
				require.NotEmpty(t, q.Expr, "%s: %s", d.Title, p.Title)
				for _, m := range ref.FindAllStringSubmatch(q.Expr, -1) {
					assert.True(t, declared[m[1]], "%s: %s uses $%s", d.Title, p.Title, m[1])
				}
			}
		}
		for _, v := range d.Variables {
			for _, m := range ref.FindAllStringSubmatch(v.Metric, -1) {
				assert.True(t, declared[m[1]], "%s: variable %s uses $%s", d.Title, v.Name, m[1])
			}
		}
	}
}

func TestExpand(t *testing.T) {
	got := Expand(`x{org="$org", month="$month"} > $idle_days`,
		map[string]string{"org": "acme", "month": "2026-12", "idle_days": "30"})
	assert.Equal(t, `x{org="acme", month="2026-12"} > 30`, got)
	assert.False(t, strings.Contains(got, "$"))
}
