package workloads

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ValidationError lists every problem found in one card, each as
// "file:line: message", in line order, joined by "; ".
type ValidationError struct {
	File   string
	Issues []Issue
}

// Issue is one problem at one line of a card.
type Issue struct {
	Line int
	Msg  string
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		lines[i] = fmt.Sprintf("%s:%d: %s", e.File, is.Line, is.Msg)
	}
	return strings.Join(lines, "; ")
}

// Parse decodes and validates one card. file names it in errors.
func Parse(file string, data []byte) (*Card, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, &ValidationError{file, []Issue{{1, "a card is a YAML mapping (name: ..., model: ...)"}}}
	}
	var c Card
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	v := validator{root: root.Content[0]}
	v.card(&c)
	if len(v.issues) > 0 {
		slices.SortStableFunc(v.issues, func(a, b Issue) int { return a.Line - b.Line })
		return nil, &ValidationError{file, v.issues}
	}
	return &c, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns the YAML library's "line N: msg" errors into "file:N: msg".
func yamlError(file string, err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	ve := &ValidationError{File: file}
	for _, m := range msgs {
		m = strings.TrimSpace(m)
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			n, _ := strconv.Atoi(g[1])
			ve.Issues = append(ve.Issues, Issue{n, g[2]})
			continue
		}
		ve.Issues = append(ve.Issues, Issue{1, strings.TrimPrefix(m, "yaml: ")})
	}
	return ve
}

// lineOf finds the line of the key at path (e.g. "flags", "cuda_graphs"),
// or of the deepest parent present, so a missing field points at its section.
func lineOf(n *yaml.Node, path ...string) int {
	line := 1
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				line = n.Content[i].Line
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

// has reports whether the key at path is present in the document.
func has(n *yaml.Node, path ...string) bool {
	for _, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return false
		}
		n = next
	}
	return true
}
