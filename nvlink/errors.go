package nvlink

import (
	"errors"
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// ErrNoNVML says the NVML library is not installed: record warns and goes on
// without link samples.
var ErrNoNVML = errors.New("NVML library not found")

// ErrNoGPU says NVML found no GPU to sample.
var ErrNoGPU = errors.New("no GPU to sample")

// ErrNoSuchGPU says --gpus named a GPU that NVML does not see.
var ErrNoSuchGPU = errors.New("no such GPU")

// nvmlError turns an NVML return code into an error naming the step.
func nvmlError(step string, ret nvml.Return) error {
	if ret == nvml.SUCCESS {
		return nil
	}
	if ret == nvml.ERROR_LIBRARY_NOT_FOUND {
		return fmt.Errorf("%s: %w (libnvidia-ml.so.1: is the NVIDIA driver installed?)", step, ErrNoNVML)
	}
	return fmt.Errorf("%s: %w", step, retError{ret})
}

// retError wraps an nvml.Return so errors.As can find the code.
type retError struct{ ret nvml.Return }

func (e retError) Error() string { return e.ret.Error() }

// Return reports the NVML code behind err, or SUCCESS if there is none.
func Return(err error) nvml.Return {
	var re retError
	if errors.As(err, &re) {
		return re.ret
	}
	return nvml.SUCCESS
}
