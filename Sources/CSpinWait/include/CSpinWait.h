#ifndef CSPINWAIT_H
#define CSPINWAIT_H
// The CPU's spin-wait hint, which Swift has no spelling for: `Parallel`'s worker threads
// poll for their next job with it between polls. On x86 it is PAUSE, which keeps a polling
// loop from flooding the core with speculative loads and leaves an SMT sibling its share.

/// One spin-wait hint (PAUSE on x86-64, YIELD on AArch64, nothing elsewhere).
void mer_spin_pause(void);

#endif
