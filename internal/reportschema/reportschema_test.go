package reportschema

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/linkprof/linkprof/correlate"
	"github.com/linkprof/linkprof/graphs"
	"github.com/linkprof/linkprof/report"
)

// The schema is versioned with report.json: its version const is
// report.Version, so changing one without the other fails here.
func TestSchemaVersionIsReportVersion(t *testing.T) {
	var s struct {
		Title      string `json:"title"`
		Properties struct {
			Version struct {
				Const *int `json:"const"`
			} `json:"version"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(report.Schema, &s); err != nil {
		t.Fatal(err)
	}
	if c := s.Properties.Version.Const; c == nil || *c != report.Version {
		t.Fatalf("schema version const %v, report.Version %d", c, report.Version)
	}
	if !strings.HasSuffix(s.Title, fmt.Sprintf("version %d", report.Version)) {
		t.Errorf("schema title %q does not name version %d", s.Title, report.Version)
	}
}

// Every JSON field of report.Report's types is in the schema and every
// schema property is a field: a field added in Go and not in the schema
// (or the reverse) fails even before a test report carries it.
func TestSchemaCoversGoTypes(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(report.Schema, &root); err != nil {
		t.Fatal(err)
	}
	walk(t, root, root, reflect.TypeFor[report.Report](), "report")
}

func walk(t *testing.T, root, node map[string]any, typ reflect.Type, path string) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Slice:
		walk(t, root, child(t, root, node, "items", path), typ.Elem(), path+"[]")
	case reflect.Map:
		walk(t, root, child(t, root, node, "additionalProperties", path), typ.Elem(), path+"{}")
	case reflect.Struct:
		props := properties(root, node)
		fields := jsonFields(typ)
		for name, ft := range fields {
			p, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s.%s: in Go, not in the schema", path, name)
				continue
			}
			walk(t, root, p, ft, path+"."+name)
		}
		for name := range props {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s.%s: in the schema, not in Go", path, name)
			}
		}
	}
}

// child is node[key], a schema, its $ref followed.
func child(t *testing.T, root, node map[string]any, key, path string) map[string]any {
	t.Helper()
	c, ok := resolve(root, node)[key].(map[string]any)
	if !ok {
		t.Fatalf("%s: schema has no %s", path, key)
	}
	return c
}

// resolve follows a node's "#/$defs/NAME" reference, if it has one and
// nothing else that matters.
func resolve(root, node map[string]any) map[string]any {
	if ref, ok := node["$ref"].(string); ok && node["properties"] == nil {
		defs := root["$defs"].(map[string]any)
		return resolve(root, defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any))
	}
	return node
}

// properties is a node's properties and those of the schemas it
// references (a base such as traffic).
func properties(root, node map[string]any) map[string]any {
	out := map[string]any{}
	if ref, ok := node["$ref"].(string); ok {
		defs := root["$defs"].(map[string]any)
		for k, v := range properties(root, defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)) {
			out[k] = v
		}
	}
	if p, ok := node["properties"].(map[string]any); ok {
		for k, v := range p {
			out[k] = v
		}
	}
	return out
}

// jsonFields names a struct's JSON fields, embedded structs flattened.
func jsonFields(typ reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case f.Anonymous && name == "":
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
		default:
			out[name] = f.Type
		}
	}
	return out
}

// The validator rejects what the schema forbids: a field it does not
// know, a rank below -1, an op it does not name.
func TestCheckRejects(t *testing.T) {
	good := minimal()
	if err := CheckReport(good); err != nil {
		t.Fatalf("minimal report: %v", err)
	}
	data, _ := json.Marshal(good)
	var doc map[string]any
	json.Unmarshal(data, &doc)
	for name, edit := range map[string]func(map[string]any){
		"unknown field": func(d map[string]any) { d["extra"] = 1 },
		"rank -2":       func(d map[string]any) { d["processes"].([]any)[0].(map[string]any)["rank"] = -2 },
		"unknown op":    func(d map[string]any) { d["ops"].([]any)[0].(map[string]any)["op"] = "AllToAll" },
		"old version":   func(d map[string]any) { d["version"] = 1 },
		"no bursts":     func(d map[string]any) { delete(d, "bursts") },
		"unknown path":  func(d map[string]any) { d["paths"].([]any)[0].(map[string]any)["path"] = "NCCL" },
		"share over 1":  func(d map[string]any) { d["paths"].([]any)[0].(map[string]any)["share_of_size"] = 1.5 },
	} {
		var d map[string]any
		json.Unmarshal(data, &d)
		edit(d)
		b, _ := json.Marshal(d)
		if err := Check(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func minimal() *report.Report {
	return &report.Report{Version: report.Version, Processes: []report.Process{{Pid: 1, Rank: -1, GPU: -1}},
		GPUs: []report.GPU{}, Ops: []report.Op{{Op: "AllReduce"}},
		Paths: []report.PathRow{{Collective: "AllReduce", Path: "custom-all-reduce", Op: "CustomAllReduce", NRanks: 2,
			SizeBucket: "16KiB-32KiB", MinBytes: 16 << 10, MaxBytes: 32 << 10, ShareOfSize: 1, ShareOfOp: 1}},
		Unattributed: report.Unattributed{Hints: []report.Hint{}},
		Bursts:       report.Bursts{Labels: map[string]uint64{}, List: []report.BurstRow{}}, Comms: []report.Comm{},
		MessageSizes: []report.SizeBin{}, TopCollectives: []report.Top{}, Notes: []report.Note{},
		Calibration: []correlate.FitRow{}, Graphs: []graphs.Summary{},
		Arrivals: report.Arrivals{Comms: []report.CommArrivals{}, Notes: []string{}}, Stalls: []report.Stall{}}
}
