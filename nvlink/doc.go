// Package nvlink samples NVLink traffic through NVML and writes it into the
// trace beside the collectives.
//
// NVML serializes field reads inside a process (about 900 calls/s in all,
// and concurrent callers lower that total) but not across processes, so
// the read schedule decides how many samples each GPU gets. linkprof
// record reads each GPU from its own reader process (linkprof run again,
// Config.ReaderCmd, running RunReader), paced so every GPU gets the same
// rate (pace.go); a Config left empty reads the GPUs in turn from one
// reader in this process, all four aggregate counters of a GPU in one call. docs/nvml.md explains the choice
// and the measurements.
package nvlink
