package provider

import "encoding/json"

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

// UnmarshalJSON reads OpenAI's usage object.
func (u *Usage) UnmarshalJSON(b []byte) error {
	var j usageJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*u = Usage{PromptTokens: j.PromptTokens, CompletionTokens: j.CompletionTokens, TotalTokens: j.TotalTokens}
	if j.PromptTokensDetails != nil {
		u.CachedTokens = j.PromptTokensDetails.CachedTokens
	}
	return nil
}
