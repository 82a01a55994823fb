package client

import (
	"context"
	"net/url"
	"strconv"
)

// Version is one kept version of a function: its record as deployed
// (model.Function: version, sha256, configuration, deployed_by,
// deployed) and whether it is the active one.
type Version struct {
	Function
	Active bool `json:"active"`
}

// Versions lists the kept versions of a function, newest first.
func (c *Client) Versions(ctx context.Context, name string) ([]Version, error) {
	var out struct {
		Versions []Version `json:"versions"`
	}
	_, err := c.Do(ctx, "GET", "/v1/functions/"+url.PathEscape(name)+"/versions", nil, nil, nil, &out)
	return out.Versions, err
}

// Rollback makes a kept version of a function the active one again:
// version 0 means the one before the active version. It returns the
// function's new record.
func (c *Client) Rollback(ctx context.Context, name string, version int64) (Function, error) {
	q := url.Values{}
	if version != 0 {
		q.Set("version", strconv.FormatInt(version, 10))
	}
	var f Function
	_, err := c.Do(ctx, "POST", "/v1/functions/"+url.PathEscape(name)+"/rollback", q, nil, nil, &f)
	return f, err
}

// Promote ends a function's gradual rollout: the new version serves
// every request. It returns the function's new record.
func (c *Client) Promote(ctx context.Context, name string) (Function, error) {
	var f Function
	_, err := c.Do(ctx, "POST", "/v1/functions/"+url.PathEscape(name)+"/promote", nil, nil, nil, &f)
	return f, err
}

// RollbackApp rolls the functions an app's last deploy changed back to
// their versions before it, as one change: every node switches them
// together.
func (c *Client) RollbackApp(ctx context.Context, app string) ([]AppChange, error) {
	var out struct {
		Changes []AppChange `json:"changes"`
	}
	_, err := c.Do(ctx, "POST", "/v1/apps/"+url.PathEscape(app)+"/rollback", nil, nil, nil, &out)
	return out.Changes, err
}
