package pricing // import "github.com/usageledger/usageledger/internal/pricing"

import "strings"

// bedrockProvider is the normalized name of AWS Bedrock, whose model ids
// carry an endpoint scope and a version.
const bedrockProvider = "aws.bedrock"

// bedrockKey identifies a Bedrock model priced per endpoint scope.
type bedrockKey struct {
	scope string // "global" or "regional"
	base  string // e.g. "anthropic.claude-sonnet-4-5-20250929"
}

// Bedrock scope prefixes as they appear in table ids.
const (
	scopeGlobal   = "global"
	scopeRegional = "regional"
)

// bedrockGeoPrefixes are the cross-region inference profile prefixes of
// Bedrock model ids ("us.anthropic.claude-…"). Geographic profiles are
// priced like in-region calls; only "global." has its own price.
var bedrockGeoPrefixes = [...]string{"us.", "us-gov.", "eu.", "apac.", "au.", "jp.", "ca.", "in."}

// Resolve returns the canonical name of the model a call to provider reports
// as name, and false when the table has no such model. Names are matched in
// lower case, in this order; the first step that finds a model wins:
//
//  1. the name exactly as a canonical model or an alias the table lists;
//  2. the user's alias map (e.g. an Azure deployment name), whose target is
//     then matched by steps 1 and 3–6;
//  3. without a routing prefix: "openai/gpt-4o" and "models/gemini-2.5-pro"
//     match as "gpt-4o" and "gemini-2.5-pro";
//  4. for aws.bedrock: without the version suffix ("-v1:0", ":0") and with
//     the endpoint scope read from the prefix: "global." is priced as the
//     global endpoint; "us.", "eu.", "apac." and the other geographic
//     prefixes, or none, as the regional endpoint;
//  5. a Vertex AI version: "claude-sonnet-4-5@20250929" matches
//     "claude-sonnet-4-5";
//  6. a snapshot date suffix ("-2024-08-06", "-20250929") folds into the
//     undated model, but only for models whose match rules in the dataset
//     say their dated versions are the same model.
//
// When none matches under provider, the providers it falls back to are
// tried in order (Azure OpenAI falls back to OpenAI, Vertex AI to Gemini and
// Anthropic). A name that matches nothing is never guessed: "gpt-4o-mini-x"
// is not "gpt-4o-mini".
func (t *Table) Resolve(provider, name string) (string, bool) {
	m := t.resolve(provider, name)
	if m == nil || len(m.prices) == 0 {
		return "", false
	}
	return m.prices[0].Model, true
}

func (t *Table) resolve(provider, name string) *model {
	if t == nil {
		return nil
	}
	name = lower(strings.TrimSpace(name))
	if name == "" {
		return nil
	}
	if m := t.resolveIn(provider, name); m != nil {
		return m
	}
	for _, fallback := range t.fallbacks[provider] {
		if m := t.resolveIn(fallback, name); m != nil {
			return m
		}
	}
	return nil
}

// resolveIn matches name among the models of one provider.
func (t *Table) resolveIn(provider, name string) *model {
	if m := t.models[modelKey{provider, name}]; m != nil {
		return m
	}
	if target, ok := t.aliases[name]; ok {
		return t.match(provider, target)
	}
	return t.match(provider, name)
}

// match runs steps 1 and 3–6 of [Table.Resolve] for one provider.
func (t *Table) match(provider, name string) *model {
	if m := t.models[modelKey{provider, name}]; m != nil {
		return m
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 && i < len(name)-1 {
		name = name[i+1:]
		if m := t.models[modelKey{provider, name}]; m != nil {
			return m
		}
	}
	if provider == bedrockProvider {
		if m := t.bedrockModel(name); m != nil {
			return m
		}
	}
	if i := strings.IndexByte(name, '@'); i > 0 {
		if m := t.models[modelKey{provider, name[:i]}]; m != nil {
			return m
		}
	}
	if base, ok := undated(name); ok {
		if m := t.models[modelKey{provider, base}]; m != nil && m.datedVersions {
			return m
		}
	}
	return nil
}

// bedrockModel matches a Bedrock model id such as
// "us.anthropic.claude-sonnet-4-5-20250929-v1:0".
func (t *Table) bedrockModel(name string) *model {
	base := bedrockUnversioned(name)
	scope, rest := scopeRegional, base
	if s, ok := strings.CutPrefix(base, scopeGlobal+"."); ok {
		scope, rest = scopeGlobal, s
	} else if s, ok := strings.CutPrefix(base, scopeRegional+"."); ok {
		rest = s
	} else {
		for _, prefix := range bedrockGeoPrefixes {
			if s, ok := strings.CutPrefix(base, prefix); ok {
				rest = s
				break
			}
		}
	}
	if m := t.bedrock[bedrockKey{scope, rest}]; m != nil {
		return m
	}
	// Models priced the same at every endpoint have no scope in the table.
	if m := t.models[modelKey{bedrockProvider, rest}]; m != nil {
		return m
	}
	if m := t.models[modelKey{bedrockProvider, base}]; m != nil {
		return m
	}
	return nil
}

// bedrockUnversioned strips a Bedrock version suffix: "-v1:0", "-v2", ":0",
// "-1:0".
func bedrockUnversioned(name string) string {
	if i := strings.LastIndexByte(name, ':'); i > 0 && allDigits(name[i+1:]) {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		v := name[i+1:]
		if len(v) > 1 && v[0] == 'v' && allDigits(v[1:]) {
			return name[:i]
		}
	}
	return name
}

// undated returns name without a snapshot date suffix "-YYYY-MM-DD" or
// "-YYYYMMDD", and whether it had one.
func undated(name string) (string, bool) {
	n := len(name)
	if n > 11 && name[n-11] == '-' && name[n-6] == '-' && name[n-3] == '-' &&
		allDigits(name[n-10:n-6]) && allDigits(name[n-5:n-3]) && allDigits(name[n-2:]) {
		return name[:n-11], true
	}
	if n > 9 && name[n-9] == '-' && allDigits(name[n-8:]) {
		return name[:n-9], true
	}
	return "", false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// lower returns s in lower case, without allocating when it already is.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}
