package devloop

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/wedge-run/wedge/client"
)

// deployer uploads built modules through the admin API and remembers the
// last good deploy of each function, so that a build that produced the
// same bytes deploys nothing and a failure can say which version keeps
// serving.
type deployer struct {
	cl   *client.Client
	good map[string]deployed
}

type deployed struct {
	sum     [32]byte
	version int64
}

func newDeployer(cl *client.Client) *deployer {
	return &deployer{cl: cl, good: map[string]deployed{}}
}

// serving describes what serves name after a failure.
func (d *deployer) serving(name string) string {
	if g, ok := d.good[name]; ok {
		return fmt.Sprintf("version %d keeps serving", g.version)
	}
	return "nothing serves it yet"
}

// same reports whether module is what name last deployed.
func (d *deployer) same(name string, module []byte) bool {
	g, ok := d.good[name]
	return ok && g.sum == sha256.Sum256(module)
}

// function deploys one function's module (a single-function project).
func (d *deployer) function(ctx context.Context, f *Function, module []byte) (version int64, err error) {
	fn, _, err := d.cl.Deploy(ctx, f.Name, module, client.DeployOptions{Routes: f.Routes, JavaScript: f.Script})
	if err != nil {
		return 0, err
	}
	d.good[f.Name] = deployed{sum: sha256.Sum256(module), version: fn.Version}
	return fn.Version, nil
}

// app deploys an app: its spec and every module in one request, as
// `wedge deploy DIR` does. The node compiles only the modules that
// changed, keeps the versions of the functions that did not, and
// removes the functions the manifest no longer lists.
func (d *deployer) app(ctx context.Context, p *Project, modules map[string][]byte) ([]client.AppChange, error) {
	spec, err := p.App.Spec()
	if err != nil {
		return nil, err
	}
	changes, err := d.cl.DeployApp(ctx, p.App.Name, spec, modules)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		if c.Action == "removed" {
			delete(d.good, c.Function)
			continue
		}
		d.good[c.Function] = deployed{sum: sha256.Sum256(modules[c.Function]), version: c.Version}
	}
	return changes, nil
}
