package workloads

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed cards/*.yaml
var cardFiles embed.FS

//go:embed families.yaml
var familiesYAML []byte

// Family is one of the workload families the cards belong to.
type Family struct {
	Name        string `yaml:"name"`
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
}

// ErrUnknownCard is returned by Lookup for a name no shipped card has.
var ErrUnknownCard = errors.New("no such workload card")

var families = sync.OnceValue(func() []Family {
	var fs []Family
	if err := yaml.Unmarshal(familiesYAML, &fs); err != nil {
		panic("workloads: embedded families.yaml: " + err.Error())
	}
	return fs
})

// Families returns the family descriptions in their file order.
func Families() []Family { return slices.Clone(families()) }

// FamilyByName finds a family.
func FamilyByName(name string) (Family, bool) {
	for _, f := range families() {
		if f.Name == name {
			return f, true
		}
	}
	return Family{}, false
}

func familyNames() []string {
	var names []string
	for _, f := range families() {
		names = append(names, f.Name)
	}
	return names
}

// Names lists the shipped cards, sorted.
func Names() []string {
	entries, _ := cardFiles.ReadDir("cards")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// Raw returns a shipped card's YAML as written.
func Raw(name string) ([]byte, error) {
	data, err := cardFiles.ReadFile(path.Join("cards", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("%w: %q (see linkprof workload list)", ErrUnknownCard, name)
	}
	return data, nil
}

// Lookup parses a shipped card. The card's name must match its file name.
func Lookup(name string) (*Card, error) {
	data, err := Raw(name)
	if err != nil {
		return nil, err
	}
	c, err := Parse(name+".yaml", data)
	if err != nil {
		return nil, err
	}
	if c.Name != name {
		return nil, fmt.Errorf("%s.yaml:%d: name %q differs from the file name", name, 1, c.Name)
	}
	return c, nil
}

// IsPath tells a card file argument from a card name.
func IsPath(arg string) bool {
	return strings.ContainsRune(arg, os.PathSeparator) || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")
}

// Load finds a card by shipped name or reads it from a file path.
// It returns the card's YAML too, so callers can show it as written.
func Load(arg string) (*Card, []byte, error) {
	if !IsPath(arg) {
		data, err := Raw(arg)
		if err != nil {
			return nil, nil, err
		}
		c, err := Lookup(arg)
		return c, data, err
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		return nil, nil, fmt.Errorf("reading card: %w", err)
	}
	c, err := Parse(arg, data)
	return c, data, err
}
