package genaiusageprocessor

import (
	"testing"

	"github.com/usageledger/usageledger/internal/usage"
)

// TestToolsAndMCP counts tool executions and MCP client calls on
// connections whose target is the tool or the MCP server.
func TestToolsAndMCP(t *testing.T) {
	runDialectCases(t, []dialectCase{
		{
			// An execute_tool span to which the MCP instrumentation added
			// its mcp.* attributes: that is the MCP call, counted once.
			name: "execute_tool with mcp attributes is the MCP call",
			spans: []traceSpan{
				root("execute_tool search", internal, map[string]any{
					"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search",
					"mcp.method.name": "tools/call", "server.address": "mcp.example.com",
					"mcp.session.id": "s-1",
				}),
			},
			want: []map[string]any{{
				usage.AttrCallKind: "mcp", usage.AttrConnection: "bot/mcp:mcp.example.com",
				usage.AttrTarget: "mcp:mcp.example.com", usage.AttrModel: "search",
				usage.AttrUsageMissing: absent, usage.AttrUnpriced: true,
			}},
		},
		{
			// An MCP client span of its own (tools/call search), under the
			// GenAI execute_tool span: one call, counted on the inner span.
			name: "MCP client span under execute_tool",
			spans: []traceSpan{
				root("execute_tool search", internal, map[string]any{
					"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search",
				}),
				child(0, "tools/call search", client, map[string]any{
					"mcp.method.name": "tools/call", "gen_ai.tool.name": "search",
					"server.address": "mcp.example.com", "network.transport": "tcp",
				}),
			},
			want: []map[string]any{notCounted, {usage.AttrCallKind: "mcp"}},
		},
		{
			name: "MCP server span and other methods are not calls",
			spans: []traceSpan{
				root("tools/call search", server, map[string]any{
					"mcp.method.name": "tools/call", "gen_ai.tool.name": "search",
				}),
				root("tools/list", client, map[string]any{"mcp.method.name": "tools/list"}),
				root("initialize", client, map[string]any{"mcp.method.name": "initialize"}),
			},
			want: []map[string]any{notCounted, notCounted, notCounted},
		},
		{
			// MCP over stdio has no server address.
			name: "MCP over stdio",
			spans: []traceSpan{root("tools/call read_file", client, map[string]any{
				"mcp.method.name": "tools/call", "gen_ai.tool.name": "read_file", "network.transport": "pipe",
			})},
			want: []map[string]any{{usage.AttrConnection: "bot/mcp:unknown"}},
		},
		{
			name: "plain execute_tool is a tool call",
			spans: []traceSpan{root("execute_tool get_weather", internal, map[string]any{
				"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
				"gen_ai.tool.call.id": "call_1",
			})},
			want: []map[string]any{{
				usage.AttrCallKind: "tool", usage.AttrConnection: "bot/tool:get_weather",
				usage.AttrModel: "get_weather", usage.AttrUsageMissing: absent,
			}},
		},
		{
			name: "tool calls switched off",
			cfg:  func(cfg *Config) { cfg.CountToolCalls = false },
			spans: []traceSpan{
				root("execute_tool get_weather", internal, map[string]any{
					"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
				}),
				root("ai.toolCall", internal, map[string]any{
					"ai.operationId": "ai.toolCall", "ai.toolCall.name": "get_weather",
				}),
				root("execute_tool search", internal, map[string]any{
					"gen_ai.operation.name": "execute_tool", "mcp.method.name": "tools/call",
				}),
			},
			want: []map[string]any{notCounted, notCounted, {usage.AttrCallKind: "mcp"}},
		},
		{
			// Tool executions of other dialects.
			name: "OpenInference TOOL and Vercel ai.toolCall",
			spans: []traceSpan{
				root("get_weather", internal, map[string]any{
					"openinference.span.kind": "TOOL", "tool.name": "get_weather",
				}),
				root("ai.toolCall", internal, map[string]any{
					"ai.operationId": "ai.toolCall", "ai.toolCall.name": "lookup",
				}),
			},
			want: []map[string]any{
				{usage.AttrConnection: "bot/tool:get_weather"},
				{usage.AttrConnection: "bot/tool:lookup"},
			},
		},
	})
}
