package compat

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiproxy/aiproxy/provider"
)

// Kong 3.14's model.options.databricks.workspace_instance_id names the workspace when
// upstream_url is not set; upstream_url still wins.
func TestDatabricksWorkspaceInstance(t *testing.T) {
	p, ok := New("databricks")
	require.True(t, ok)
	m := provider.Model{Provider: "databricks", Name: "databricks-gpt-oss-20b",
		Options: provider.Options{Databricks: &provider.DatabricksOptions{WorkspaceInstanceID: "dbc-1234"}}}
	req, err := p.NewRequest(context.Background(), &provider.Request{RouteType: provider.Chat, Model: m, Body: []byte(`{"messages":[]}`)})
	require.NoError(t, err)
	assert.Equal(t, "https://dbc-1234.cloud.databricks.com/serving-endpoints/v1/chat/completions", req.URL.String())
	m.Options.UpstreamURL = "https://example.test/serving-endpoints"
	req, err = p.NewRequest(context.Background(), &provider.Request{RouteType: provider.Chat, Model: m, Body: []byte(`{"messages":[]}`)})
	require.NoError(t, err)
	assert.Equal(t, "https://example.test/serving-endpoints/chat/completions", req.URL.String())
}
