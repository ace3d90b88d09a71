package provider

import (
	"encoding/json"
	"errors"

	"github.com/aiproxy/aiproxy/internal/jsonx"
)

type usageJSON struct {
	PromptTokens        int           `json:"prompt_tokens"`
	CompletionTokens    int           `json:"completion_tokens"`
	TotalTokens         int           `json:"total_tokens"`
	PromptTokensDetails *tokenDetails `json:"prompt_tokens_details,omitempty"`
}

type tokenDetails struct {
	CachedTokens int `json:"cached_tokens"`
}

// MarshalJSON writes OpenAI's usage object.
func (u Usage) MarshalJSON() ([]byte, error) {
	j := usageJSON{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if u.CachedTokens > 0 {
		j.PromptTokensDetails = &tokenDetails{CachedTokens: u.CachedTokens}
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads OpenAI's usage object without allocating; it is on the path of every
// response. Fields it does not know are skipped.
func (u *Usage) UnmarshalJSON(b []byte) error {
	*u = Usage{}
	var bad bool
	cacheHit := -1 // DeepSeek's prompt_cache_hit_tokens, used when prompt_tokens_details is absent
	err := jsonx.Object(b, func(m jsonx.Member) bool {
		switch string(m.Key) {
		case "prompt_tokens":
			u.PromptTokens, bad = count(m.Value)
		case "completion_tokens":
			u.CompletionTokens, bad = count(m.Value)
		case "total_tokens":
			u.TotalTokens, bad = count(m.Value)
		case "prompt_cache_hit_tokens":
			cacheHit, bad = count(m.Value)
		case "prompt_tokens_details":
			if string(m.Value) != "null" {
				_ = jsonx.Object(m.Value, func(d jsonx.Member) bool {
					if string(d.Key) == "cached_tokens" {
						u.CachedTokens, bad = count(d.Value)
					}
					return !bad
				})
			}
		}
		return !bad
	})
	if u.CachedTokens == 0 && cacheHit > 0 {
		u.CachedTokens = cacheHit
	}
	if err == nil && bad {
		err = errors.New("usage: token counts must be non-negative integers")
	}
	return err
}

// count parses a non-negative JSON integer (null counts as zero); bad reports anything else.
func count(v []byte) (n int, bad bool) {
	if string(v) == "null" {
		return 0, false
	}
	if len(v) == 0 || len(v) > 18 {
		return 0, true
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, true
		}
		n = n*10 + int(c-'0')
	}
	return n, false
}
