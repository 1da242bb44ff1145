package trace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// DefaultDir names a new recording folder after the time it starts.
func DefaultDir(now time.Time) string {
	return "linkprof-" + now.Format("20060102-150405")
}

// PrepareDir makes dir ready to receive a recording. A folder that already
// holds files is refused unless force is set; a symbolic link is refused
// always, so a recording running as root never writes through one. It runs
// as the creator (CreateAs).
func PrepareDir(dir string, force bool) error {
	return asCreator(func() error { return prepareDir(dir, force) })
}

func prepareDir(dir string, force bool) error {
	if err := checkDir(dir, force); !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating output folder: %w", err)
	}
	return nil
}

// CheckDir says whether PrepareDir would take dir, creating nothing: for a
// command that works a while before it writes (merge).
func CheckDir(dir string, force bool) error {
	err := asCreator(func() error { return checkDir(dir, force) })
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// checkDir refuses what PrepareDir refuses; os.ErrNotExist when dir is
// not there yet.
func checkDir(dir string, force bool) error {
	fi, err := os.Lstat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return err
	case err != nil:
		return fmt.Errorf("checking output folder: %w", err)
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("output folder %s is a symbolic link: give the real path", dir)
	case !fi.IsDir():
		return fmt.Errorf("output %s exists and is not a folder", dir)
	}
	empty, err := isEmptyDir(dir)
	if err != nil {
		return fmt.Errorf("reading output folder: %w", err)
	}
	if !empty && !force {
		return fmt.Errorf("%w: %s (use --force to write into it)", ErrFolderUsed, dir)
	}
	return nil
}

func isEmptyDir(dir string) (bool, error) {
	d, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer d.Close()
	_, err = d.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}

// CreateFile creates dir/name without following symbolic links. An existing
// file is replaced only when force is set (it is removed first, so a link
// planted in its place is never followed). It runs as the creator
// (CreateAs).
func CreateFile(dir, name string, force bool) (*os.File, error) {
	var f *os.File
	err := asCreator(func() (err error) {
		f, err = createFile(dir, name, force)
		return err
	})
	return f, err
}

func createFile(dir, name string, force bool) (*os.File, error) {
	path := filepath.Join(dir, name)
	if force {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("replacing %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%s exists (use --force to replace it)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", path, err)
	}
	return f, nil
}

// WriteFile writes data to dir/name the way CreateFile creates it: never
// through a symbolic link, never over an existing file unless force is set.
func WriteFile(dir, name string, data []byte, force bool) error {
	f, err := CreateFile(dir, name, force)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", filepath.Join(dir, name), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}
