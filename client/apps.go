package client

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
)

// AppChange is what an app deploy did to one function.
type AppChange struct {
	Function string `json:"function"`
	Action   string `json:"action"` // created, updated, unchanged, removed
	Version  int64  `json:"version"`
}

// DeployApp uploads an app's spec (manifest.App.Spec) and its modules,
// keyed by function name, in one request.
func (c *Client) DeployApp(ctx context.Context, app string, spec []byte, modules map[string][]byte) ([]AppChange, error) {
	return c.DeployAppProgress(ctx, app, spec, modules, nil)
}

// DeployAppProgress is DeployApp telling fn, if not nil, the upload's
// progress and each phase of each function's deploy on the node.
func (c *Client) DeployAppProgress(ctx context.Context, app string, spec []byte, modules map[string][]byte, fn func(Progress)) ([]AppChange, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := w.WriteField("spec", string(spec)); err != nil {
		return nil, err
	}
	for name, wasm := range modules {
		part, err := w.CreateFormFile("module/"+name, name+".wasm")
		if err != nil {
			return nil, err
		}
		if _, err := part.Write(wasm); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	var out struct {
		Changes []AppChange `json:"changes"`
	}
	hdr := http.Header{"Content-Type": {w.FormDataContentType()}}
	if fn != nil {
		_, err := c.deployStreamed(ctx, "PUT", "/v1/apps/"+url.PathEscape(app), nil, body.Bytes(), hdr, &out, fn)
		return out.Changes, err
	}
	_, err := c.Do(ctx, "PUT", "/v1/apps/"+url.PathEscape(app), nil, &body, hdr, &out)
	return out.Changes, err
}

// DeleteApp removes every function of an app.
func (c *Client) DeleteApp(ctx context.Context, app string) ([]AppChange, error) {
	var out struct {
		Changes []AppChange `json:"changes"`
	}
	_, err := c.Do(ctx, "DELETE", "/v1/apps/"+url.PathEscape(app), nil, nil, nil, &out)
	return out.Changes, err
}
