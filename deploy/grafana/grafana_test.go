package grafana

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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

// TestRequestsAndCostShareOneChart reads the connection dashboard as Grafana
// does and checks that requests and cost by month are one bar chart of two
// fields, requests on the left axis in plain numbers and cost on a right
// axis of its own in dollars.
func TestRequestsAndCostShareOneChart(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("dashboards", "connection.json"))
	require.NoError(t, err)
	var model struct {
		Panels []struct {
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				RefID string `json:"refId"`
				Expr  string `json:"expr"`
			} `json:"targets"`
			Transformations []struct {
				ID      string `json:"id"`
				Options struct {
					RenameByName map[string]string `json:"renameByName"`
				} `json:"options"`
			} `json:"transformations"`
			FieldConfig struct {
				Defaults struct {
					Unit string `json:"unit"`
				} `json:"defaults"`
				Overrides []struct {
					Matcher struct {
						ID      string `json:"id"`
						Options string `json:"options"`
					} `json:"matcher"`
					Properties []struct {
						ID    string `json:"id"`
						Value string `json:"value"`
					} `json:"properties"`
				} `json:"overrides"`
			} `json:"fieldConfig"`
			Options struct {
				XField string `json:"xField"`
				Legend struct {
					ShowLegend bool `json:"showLegend"`
				} `json:"legend"`
			} `json:"options"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &model))

	var titles []string
	for _, p := range model.Panels {
		titles = append(titles, p.Title)
	}
	assert.NotContains(t, titles, "Requests by month")
	assert.NotContains(t, titles, "Cost by month")
	i := slices.Index(titles, "Requests and cost by month")
	require.GreaterOrEqual(t, i, 0, "panels: %v", titles)
	p := model.Panels[i]

	assert.Equal(t, "barchart", p.Type)
	assert.Equal(t, "month", p.Options.XField)
	assert.True(t, p.Options.Legend.ShowLegend, "two series need a legend")
	require.Len(t, p.Targets, 2)
	assert.Equal(t, "A", p.Targets[0].RefID)
	assert.Contains(t, p.Targets[0].Expr, "genai_connection_requests_total")
	assert.Equal(t, "B", p.Targets[1].RefID)
	assert.Contains(t, p.Targets[1].Expr, "genai_connection_cost_usd_total")

	var renames map[string]string
	for _, tr := range p.Transformations {
		if tr.ID == "organize" {
			renames = tr.Options.RenameByName
		}
	}
	assert.Equal(t, map[string]string{"Value #A": "Requests", "Value #B": "Cost"}, renames)

	assert.Equal(t, "short", p.FieldConfig.Defaults.Unit)
	require.Len(t, p.FieldConfig.Overrides, 1)
	o := p.FieldConfig.Overrides[0]
	assert.Equal(t, "byName", o.Matcher.ID)
	assert.Equal(t, "Cost", o.Matcher.Options)
	require.Len(t, o.Properties, 2)
	assert.Equal(t, "unit", o.Properties[0].ID)
	assert.Equal(t, "currencyUSD", o.Properties[0].Value)
	assert.Equal(t, "custom.axisPlacement", o.Properties[1].ID)
	assert.Equal(t, "right", o.Properties[1].Value)
}

func TestFieldOverridesNeedALegend(t *testing.T) {
	f := func(p Panel, wantErr string) {
		t.Helper()
		_, err := JSON(Dashboard{UID: "u", Title: "t", File: "t.json", Panels: []Panel{p}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), wantErr)
	}
	f(Panel{Title: "p", Kind: Bars, Queries: []Query{{Expr: "a"}, {Expr: "b", RightAxis: true}}},
		"query 1 sets its own unit or axis but has no legend to name its field")
	f(Panel{Title: "p", Kind: Bars, Queries: []Query{{Expr: "a", Unit: "s"}}},
		"query 0 sets its own unit or axis but has no legend to name its field")
	f(Panel{Title: "p", Kind: Stat, Queries: []Query{{Expr: "a", Legend: "A", RightAxis: true}}},
		"query 0 asks for a right axis, which only bars and time series have")
}
