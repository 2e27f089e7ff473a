package grafana // import "github.com/usageledger/usageledger/deploy/grafana"

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/barchart"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// datasource is the dashboards' data source: the provisioned
// Prometheus-compatible one, or any other picked with $datasource.
var datasource = common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}

// JSON returns the Grafana dashboard model of d, built with the Grafana
// Foundation SDK, which checks every panel and query as it builds.
func JSON(d Dashboard) ([]byte, error) {
	b := dashboard.NewDashboardBuilder(d.Title).
		Uid(d.UID).
		Description(d.Description).
		Tags([]string{"usage-ledger"}).
		Time("now-30d", "now").
		Refresh("1m").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").Type("prometheus"))
	for _, v := range d.Variables {
		b.WithVariable(variable(v))
	}
	for i, p := range d.Panels {
		pb, err := panel(p)
		if err != nil {
			return nil, fmt.Errorf("dashboard %q panel %d %q: %w", d.Title, i, p.Title, err)
		}
		b.WithPanel(pb)
	}
	model, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("dashboard %q: %w", d.Title, err)
	}
	out, err := json.MarshalIndent(model, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func variable(v Variable) cog.Builder[dashboard.VariableModel] {
	if v.Values != "" {
		first, _, _ := strings.Cut(v.Values, ",")
		return dashboard.NewCustomVariableBuilder(v.Name).Label(v.Label).
			Values(dashboard.StringOrMap{String: cog.ToPtr(v.Values)}).
			Current(dashboard.VariableOption{
				Text:  dashboard.StringOrArrayOfString{String: cog.ToPtr(first)},
				Value: dashboard.StringOrArrayOfString{String: cog.ToPtr(first)},
			})
	}
	def := "label_values(" + v.Metric + ", " + v.LabelName + ")"
	sort := dashboard.VariableSortAlphabeticalAsc
	if v.Newest {
		sort = dashboard.VariableSortAlphabeticalDesc
	}
	return dashboard.NewQueryVariableBuilder(v.Name).Label(v.Label).
		Datasource(datasource).
		Query(dashboard.StringOrMap{Map: map[string]any{"query": def, "refId": "PrometheusVariableQueryEditor-VariableQuery"}}).
		Definition(def).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(sort)
}

// targets returns the queries of p: instant queries as tables for every
// kind but time series, whose queries run over the time range.
func targets(p Panel) []cog.Builder[variants.Dataquery] {
	var out []cog.Builder[variants.Dataquery]
	for i, q := range p.Queries {
		t := prometheus.NewDataqueryBuilder().
			Datasource(datasource).
			RefId(string(rune('A' + i))).
			Expr(q.Expr)
		if q.Legend != "" {
			t.LegendFormat(q.Legend)
		}
		if p.Kind == TimeSeries {
			t.Range()
		} else {
			t.Instant().Format(prometheus.PromQueryFormatTable)
		}
		out = append(out, t)
	}
	return out
}

func panel(p Panel) (cog.Builder[dashboard.Panel], error) {
	if len(p.Queries) == 0 {
		return nil, fmt.Errorf("no query")
	}
	for i, q := range p.Queries {
		if (q.Unit != "" || q.RightAxis) && q.Legend == "" {
			return nil, fmt.Errorf("query %d sets its own unit or axis but has no legend to name its field", i)
		}
		if q.RightAxis && p.Kind != Bars && p.Kind != TimeSeries {
			return nil, fmt.Errorf("query %d asks for a right axis, which only bars and time series have", i)
		}
	}
	width := p.Width
	if width == 0 {
		width = 12
	}
	switch p.Kind {
	case Stat:
		return stat.NewPanelBuilder().Title(p.Title).Description(p.Description).Datasource(datasource).
			Unit(p.Unit).Span(width).Height(4).Targets(targets(p)).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})), nil
	case Table:
		return table.NewPanelBuilder().Title(p.Title).Description(p.Description).Datasource(datasource).
			Unit(p.Unit).Span(width).Height(8).Targets(targets(p)).
			WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
				"renameByName":  renames(p),
			}}), nil
	case Bars:
		b := barchart.NewPanelBuilder().Title(p.Title).Description(p.Description).Datasource(datasource).
			Unit(p.Unit).Span(width).Height(8).Targets(targets(p)).XField(p.XField)
		for _, o := range overrides(p) {
			b.OverrideByName(o.field, o.properties)
		}
		if len(p.Queries) > 1 {
			b.Legend(seriesLegend())
		}
		return b.
			WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
				"renameByName":  renames(p),
			}}).
			WithTransformation(dashboard.DataTransformerConfig{Id: "sortBy", Options: map[string]any{
				"sort": []any{map[string]any{"field": p.XField}},
			}}), nil
	case TimeSeries:
		b := timeseries.NewPanelBuilder().Title(p.Title).Description(p.Description).Datasource(datasource).
			Unit(p.Unit).Span(width).Height(8).Targets(targets(p))
		for _, o := range overrides(p) {
			b.OverrideByName(o.field, o.properties)
		}
		if len(p.Queries) > 1 {
			b.Legend(seriesLegend())
		}
		return b, nil
	}
	return nil, fmt.Errorf("unknown panel kind %d", p.Kind)
}

// seriesLegend is the legend of a chart of several series, which says which
// one is which.
func seriesLegend() cog.Builder[common.VizLegendOptions] {
	return common.NewVizLegendOptionsBuilder().ShowLegend(true).
		DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)
}

// fieldOverride is what one field of a panel shows differently from the
// panel's defaults.
type fieldOverride struct {
	field      string
	properties []dashboard.DynamicConfigValue
}

// overrides returns the field overrides of p's queries that set their own
// unit or axis, each field named by its query's legend.
func overrides(p Panel) []fieldOverride {
	var out []fieldOverride
	for _, q := range p.Queries {
		var props []dashboard.DynamicConfigValue
		if q.Unit != "" {
			props = append(props, dashboard.DynamicConfigValue{Id: "unit", Value: q.Unit})
		}
		if q.RightAxis {
			props = append(props, dashboard.DynamicConfigValue{Id: "custom.axisPlacement",
				Value: common.AxisPlacementRight})
		}
		if len(props) > 0 {
			out = append(out, fieldOverride{field: q.Legend, properties: props})
		}
	}
	return out
}

// renames names a table's value columns after the queries' legends: Grafana
// calls the value of query A "Value #A".
func renames(p Panel) map[string]any {
	m := make(map[string]any, len(p.Queries))
	for i, q := range p.Queries {
		if q.Legend != "" {
			m["Value #"+string(rune('A'+i))] = q.Legend
		}
	}
	return m
}
