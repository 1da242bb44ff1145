package report

import _ "embed"

// Schema is report.schema.json, the JSON Schema (draft 2020-12) of
// report.json at this Version: its version property's const is Version,
// and internal/reportschema's tests hold the two and the Go types
// together.
//
//go:embed report.schema.json
var Schema []byte
