// Package reportschema validates report.json against report.Schema. The
// tests that write reports call it, so the schema published in the
// repository is the one every report meets.
package reportschema

import (
	"bytes"
	"fmt"
	"os"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/linkprof/linkprof/report"
)

// schemaURL is the schema's $id: it names the embedded copy, nothing is
// fetched.
const schemaURL = "https://github.com/linkprof/linkprof/report/report.schema.json"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(report.Schema))
	if err != nil {
		return nil, fmt.Errorf("reading report.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("adding report.schema.json: %w", err)
	}
	return c.Compile(schemaURL)
})

// Check validates one report.json document.
func Check(data []byte) error {
	s, err := compiled()
	if err != nil {
		return err
	}
	// UnmarshalJSON keeps numbers as json.Number: a uint64 handle stays
	// exact.
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("decoding report: %w", err)
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("report.json does not meet report.schema.json: %w", err)
	}
	return nil
}

// CheckFile validates a report.json file.
func CheckFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := Check(data); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// CheckReport validates r as report.WriteJSON writes it.
func CheckReport(r *report.Report) error {
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, r); err != nil {
		return err
	}
	return Check(buf.Bytes())
}
