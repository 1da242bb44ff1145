package correlate

import "github.com/linkprof/linkprof/trace"

func readAllEvents(dir string) ([]trace.Event, error) {
	t, err := trace.Load(dir)
	if err != nil {
		return nil, err
	}
	return t.Events, nil
}
