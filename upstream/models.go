package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Model is one entry of the gateway's model list.
type Model struct {
	ID                     string   `json:"id"`
	OwnedBy                string   `json:"owned_by"`
	Created                int64    `json:"created"`
	SupportedEndpointTypes []string `json:"supported_endpoint_types"`
}

// ListModels lists the models the key may use: GET /v1/models. Both new-api
// list shapes are accepted ({"data":[…],"object":"list"} and the older one
// without "object"), as is the Gemini shape {"models":[{"name"}]}. The
// gateway hides models that have no price.
func (c *Client) ListModels(ctx context.Context) ([]Model, error) {
	r := &request{method: http.MethodGet, path: "/v1/models", auth: authBearer}
	var body struct {
		Data   []json.RawMessage `json:"data"`
		Models []struct {
			Name string `json:"name"`
		} `json:"models"`
	}
	if err := c.do(ctx, r, &body); err != nil {
		return nil, fmt.Errorf("list models: %w", err)
	}
	models := make([]Model, 0, len(body.Data)+len(body.Models))
	for _, raw := range body.Data {
		var m Model
		// One odd entry (a string id, a null list) must not hide the others.
		if err := json.Unmarshal(raw, &m); err != nil {
			var id string
			if json.Unmarshal(raw, &id) != nil {
				continue
			}
			m.ID = id
		}
		if m.ID != "" {
			models = append(models, m)
		}
	}
	for _, g := range body.Models {
		if g.Name != "" {
			models = append(models, Model{ID: g.Name})
		}
	}
	return models, nil
}
