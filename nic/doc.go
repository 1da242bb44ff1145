// Package nic samples the byte counters of the network devices that carry
// NCCL's traffic between hosts, and between local ranks when NCCL is told
// to use its network transport: InfiniBand and RoCE ports
// (/sys/class/infiniband/DEV/ports/N) and netdevs (/sys/class/net/DEV),
// which NCCL's socket transport uses. It writes them into the trace beside
// the collectives and the NVLink samples.
//
// The counters are sysfs files. A reader keeps each one open and reads it
// again from offset 0 (pread): the kernel renders the value afresh on each
// read, so a round costs one system call per counter and no open or close.
// That is cheap enough to read far more often than NVML allows
// (docs/design.md, "Network links", has the figures).
package nic
