/* SPDX-License-Identifier: MIT */
/* Keeps a lock-step network transfer and the decoding that follows it on different CPUs:
 * TFTP waits one round trip a block, so a block's wake-up must not queue behind the decoder. */
#ifndef UPGRADER_CPUSPLIT_H
#define UPGRADER_CPUSPLIT_H

#include <sched.h>

struct cpu_split {
    int net_cpu;     /* the CPU left to the network thread; -1: no split was made */
    cpu_set_t saved; /* the calling thread's mask before the split */
};

/* Moves the calling thread (and so every thread it starts from now on) off one CPU of its
 * allowed set and returns that CPU, for the network thread alone. Returns -1 and changes
 * nothing when the thread may run on fewer than two CPUs or its mask cannot be changed
 * (a split is a speed-up, never a requirement). */
int cpu_split_begin(struct cpu_split *s);
/* Gives the calling thread its mask from before cpu_split_begin back; a no-op after -1. */
void cpu_split_end(struct cpu_split *s);

#endif
