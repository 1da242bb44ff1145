// Package deploy holds the manifests that run linkprof where multi-node
// jobs run (docs/fleet.md). It has no code: its test decodes the
// Kubernetes manifest strictly into the API types and checks the
// privileges it grants against what recording needs.
package deploy
