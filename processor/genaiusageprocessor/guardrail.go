package genaiusageprocessor // import "github.com/usageledger/usageledger/processor/genaiusageprocessor"

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Guardrail attributes of LiteLLM (v2), NVIDIA NeMo Guardrails and the
// proposed gen_ai.guardrail.* conventions (both shapes under review).
const (
	attrLiteLLMGuardrailName   = "litellm.guardrail.name"
	attrLiteLLMGuardrailStatus = "litellm.guardrail.status"
	attrLiteLLMGuardrailMode   = "litellm.guardrail.mode"
	attrLiteLLMV1GuardrailMode = "guardrail_mode"
	attrRailType               = "rail.type"
	attrRailStop               = "rail.stop"
	attrGuardrailVerdict       = "gen_ai.guardrail.verdict.type"
	attrGuardrailAction        = "gen_ai.guardrail.action.type"
	attrGuardrailTarget        = "gen_ai.guardrail.target.type"
	attrGuardrailResultType    = "gen_ai.guardrail.result.type"
	attrGuardrailResultValue   = "gen_ai.guardrail.result.value"
	attrGuardrailSource        = "gen_ai.guardrail.source"
)

// guardrailIntervened reports whether the span's own attributes say a
// guardrail stopped the request: LiteLLM's status guardrail_intervened,
// NeMo's rail.stop, a deny verdict or block action, or a result that is
// Bedrock's GUARDRAIL_INTERVENED or a triggered tripwire.
func (a *spanAttrs) guardrailIntervened() bool {
	if strings.EqualFold(a.str(slotLiteLLMGuardrailStatus), "guardrail_intervened") ||
		a.isTrue(slotRailStop) ||
		strings.EqualFold(a.str(slotGuardrailVerdict), "deny") ||
		strings.EqualFold(a.str(slotGuardrailAction), "block") {
		return true
	}
	value := a.str(slotGuardrailResultValue)
	if strings.EqualFold(value, "GUARDRAIL_INTERVENED") || strings.EqualFold(value, "INTERVENED") {
		return true
	}
	return strings.EqualFold(a.str(slotGuardrailResultType), "tripwire_triggered") &&
		(strings.EqualFold(value, "true") || a.isTrue(slotGuardrailResultValue))
}

// guardrailBlock says whether span is a guardrail's own span that blocked a
// request, and whether it guarded the request's input, so that no model
// ran. Guardrail spans are LiteLLM's (v1 "guardrail", v2
// "execute_guardrail"), NeMo's rail spans, OpenInference GUARDRAIL spans
// and apply_guardrail spans; an OpenInference GUARDRAIL span blocked when
// it failed (the OpenAI Agents SDK raises when a tripwire triggers). It does
// not allocate, and reads a guardrail span's attributes in one pass.
func guardrailBlock(span ptrace.Span, fam families) (blocked, input bool) {
	if fam&(famGuardrail|famOpenInference|famGenAI) == 0 {
		return false, false
	}
	attrs := span.Attributes()
	oi := fam&famOpenInference != 0 && strings.EqualFold(str(attrs, attrOISpanKind), "GUARDRAIL")
	if !oi && str(attrs, attrOperationName) != "apply_guardrail" && (fam&famGuardrail == 0 ||
		!has(attrs, attrLiteLLMGuardrailName) && !has(attrs, attrRailType) &&
			!has(attrs, attrGuardrailVerdict) && !has(attrs, attrGuardrailResultType)) {
		return false, false
	}
	var a spanAttrs
	a.read(attrs, nil)
	blocked = a.guardrailIntervened() || oi && span.Status().Code() == ptrace.StatusCodeError
	if !blocked {
		return false, false
	}
	input = a.str(slotLiteLLMGuardrailMode) == "pre_call" ||
		a.str(slotLiteLLMV1GuardrailMode) == "pre_call" ||
		strings.EqualFold(a.str(slotRailType), "input") ||
		strings.EqualFold(a.str(slotGuardrailTarget), "input") ||
		strings.EqualFold(a.str(slotGuardrailSource), "input")
	return true, input
}
