package compat

import (
	"github.com/aiproxy/aiproxy/provider"
	"github.com/aiproxy/aiproxy/provider/openai"
)

// DashScope's OpenAI-compatible API roots.
const (
	DashScopeInternationalBaseURL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"
	DashScopeChinaBaseURL         = "https://dashscope.aliyuncs.com/compatible-mode/v1"
)

// DashScope is Alibaba Cloud Model Studio's OpenAI-compatible mode (Qwen models, Bearer
// key): the international endpoint unless model.options.dashscope.international is false.
// Its chat requests take top_k.
func DashScope() Provider {
	return Provider{Provider: openai.Provider{TopK: true}, Name: "dashscope", Endpoint: func(r *provider.Request) (string, error) {
		base := DashScopeInternationalBaseURL
		if d := r.Model.Options.Dashscope; d != nil && d.International != nil && !*d.International {
			base = DashScopeChinaBaseURL
		}
		return openai.URL(base, openai.Path(r.RouteType), r), nil
	}}
}
