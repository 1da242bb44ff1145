// Package nvlink samples NVLink traffic through NVML and writes it into the
// trace beside the collectives.
//
// NVML serializes field reads across all GPUs of a host (about 900 calls/s
// in total, and concurrent callers lower that total), so the sampler's read
// schedule is what decides how many samples each GPU gets: by default one
// reader walks the GPUs round-robin, reading all four aggregate counters of
// a GPU in one call. docs/nvml.md explains the choice and the measurements.
package nvlink
