package trace

import (
	"fmt"
	"os"
	"syscall"
)

// openRegular opens path for reading and refuses anything but a regular
// file: reading a FIFO or a device would block or never end. O_NONBLOCK
// keeps the open itself from waiting for a FIFO's writer; the file type is
// checked on the opened file, so it cannot change in between.
func openRegular(path string) (*os.File, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, fmt.Errorf("%s is a %s, not a regular file: %w", path, typeName(st.Mode), ErrNotTrace)
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// typeName names a non-regular file type for an error.
func typeName(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFIFO:
		return "named pipe"
	case syscall.S_IFDIR:
		return "folder"
	case syscall.S_IFSOCK:
		return "socket"
	case syscall.S_IFCHR, syscall.S_IFBLK:
		return "device"
	}
	return "special file"
}
