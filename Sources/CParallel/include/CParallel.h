#ifndef CPARALLEL_H
#define CPARALLEL_H
// What `Parallel` and its worker pool need from C, which Swift's Glibc module does not offer:
// the CPU's spin-wait hint, and the number of CPUs this process may run on; and the one
// other CPU hint the kernels use, a cache prefetch.

/// One spin-wait hint (PAUSE on x86-64, YIELD on AArch64, nothing elsewhere). The pool's
/// helpers poll for their next job with it between polls: it keeps a polling loop from
/// flooding the core with speculative loads and leaves an SMT sibling its share.
void mer_spin_pause(void);

/// CPUs in this thread's affinity mask (what `taskset`, cgroups' cpusets and Slurm's
/// binding leave it), or 0 when the mask cannot be read.
int mer_usable_cpus(void);

/// Asks for the cache line at `p` to be brought into the caches ahead of use (a hint: no
/// fault, no effect on results). Inline, so Swift callers get the bare PREFETCHT0.
static inline void mer_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#endif
