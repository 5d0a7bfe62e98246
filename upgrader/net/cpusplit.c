/* SPDX-License-Identifier: MIT */
/* CPU affinity for the streaming install: the decoding side leaves one CPU to the network
 * thread of a lock-step transfer (docs/install.md, "Where the TFTP gap was"). */
#include "net/cpusplit.h"

#include <string.h>

int cpu_split_begin(struct cpu_split *s)
{
    s->net_cpu = -1;
    if (sched_getaffinity(0, sizeof s->saved, &s->saved) != 0 || CPU_COUNT(&s->saved) < 2)
        return -1;
    /* The lowest allowed CPU: many boards route the network interrupt to CPU 0, so a
     * packet's wake-up stays local there. */
    int net = 0;
    while (net < CPU_SETSIZE && !CPU_ISSET(net, &s->saved))
        net++;
    cpu_set_t rest;
    memcpy(&rest, &s->saved, sizeof rest);
    CPU_CLR(net, &rest);
    if (sched_setaffinity(0, sizeof rest, &rest) != 0)
        return -1;
    s->net_cpu = net;
    return net;
}

void cpu_split_end(struct cpu_split *s)
{
    if (s->net_cpu < 0)
        return;
    /* Nothing useful to do if this fails: the thread only keeps fewer CPUs. */
    (void)sched_setaffinity(0, sizeof s->saved, &s->saved);
    s->net_cpu = -1;
}
