/* SPDX-License-Identifier: MIT */
/* killat USEC COMMAND [ARG...]: a power cut at a chosen instant. Runs COMMAND in a process
 * group of its own and sends the whole group SIGKILL USEC microseconds after starting it,
 * unless it ended first. Exits as a shell reports the command: its exit code, or 128 + the
 * signal that ended it (137: the cut landed while it ran). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Waits for SIGCHLD until usec have passed since start; 1 when it came. */
static int child_ended_within(const sigset_t *set, const struct timespec *start, long long usec)
{
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long spent =
            (now.tv_sec - start->tv_sec) * 1000000LL + (now.tv_nsec - start->tv_nsec) / 1000;
        if (spent >= usec)
            return 0;
        long long left = usec - spent;
        struct timespec t = {.tv_sec = left / 1000000, .tv_nsec = (left % 1000000) * 1000};
        if (sigtimedwait(set, NULL, &t) == SIGCHLD)
            return 1;
        if (errno != EAGAIN && errno != EINTR)
            return 0;
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: killat USEC COMMAND [ARG...]\n");
        return 2;
    }
    long long usec = atoll(argv[1]);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL); /* before the fork: an early end is not missed */
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) {
        perror("killat: fork");
        return 1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    setpgid(pid, pid); /* also here: the kill must find the group even before the exec */
    if (!child_ended_within(&set, &start, usec))
        kill(-pid, SIGKILL);
    /* What the cut left of the rest of the group (a child the command started) goes too,
     * while the leader is still unreaped, so the group's id cannot have been reused. */
    siginfo_t info;
    while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0)
        if (errno != EINTR) {
            perror("killat: waitid");
            return 1;
        }
    kill(-pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            perror("killat: waitpid");
            return 1;
        }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
