package manifest

import "github.com/wedge-run/wedge/model"

// Model returns the app as package model describes it: what a node
// deploys (each function's spec, with resolved secret values, and the
// buckets). Module paths and build commands stay with the manifest.
func (a *App) Model() model.AppSpec {
	s := model.AppSpec{Name: a.Name, Buckets: a.Buckets}
	for _, f := range a.Functions {
		s.Functions = append(s.Functions, f.Spec(a.Name))
	}
	return s
}

// Spec returns the function's model.FunctionSpec as a member of app.
// Secrets carry their values (ResolveSecrets, or ParseSpec, sets them).
func (f Function) Spec(app string) model.FunctionSpec {
	s := model.FunctionSpec{
		Name: f.Name, Routes: f.Routes, Limits: f.Limits, Config: f.Config, Triggers: f.Triggers,
		KVNamespace: f.KVNamespace, KVGrants: f.KVGrants, AllowedHosts: f.AllowedHosts, App: app, Affinity: f.Affinity,
		TrafficKey: f.TrafficKey,
	}
	if len(f.Secrets) > 0 {
		s.Secrets = make(map[string]string, len(f.Secrets))
		for k, v := range f.Secrets {
			s.Secrets[k] = v.Value
		}
	}
	return s
}
