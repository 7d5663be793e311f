/* A stand-in for the node binary, for tests/profile_choice.rs (compiled there with `cc`).
 *
 * The plugin learns the node's protocol by running its parent's executable (/proc/<ppid>/exe)
 * with --version, so the plugin's parent must be a real executable: a shell script would show
 * up as the shell.
 *
 *   fake-node --version        prints $FAKE_NODE_VERSION and a newline, exit 0; if that is
 *                              "hang", sleeps until killed; if unset, complains, exit 1.
 *   fake-node PLUGIN [ARG...]  runs PLUGIN with ARGs and this environment as its child (so this
 *                              process is the plugin's parent), forwards SIGTERM and SIGINT to
 *                              it, and exits as it exited (128 + signal when killed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child = 0;

static void forward(int sig) {
    if (child > 0)
        kill(child, sig);
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        const char *line = getenv("FAKE_NODE_VERSION");
        if (line == NULL) {
            fputs("fake-node: FAKE_NODE_VERSION is not set\n", stderr);
            return 1;
        }
        if (strcmp(line, "hang") == 0)
            for (;;)
                pause();
        printf("%s\n", line);
        return 0;
    }
    if (argc < 2) {
        fputs("usage: fake-node --version | fake-node PLUGIN [ARG...]\n", stderr);
        return 2;
    }

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = forward;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);

    /* Held back until `child` is known, so no signal falls between fork and assignment. */
    sigset_t held, previous;
    sigemptyset(&held);
    sigaddset(&held, SIGTERM);
    sigaddset(&held, SIGINT);
    sigprocmask(SIG_BLOCK, &held, &previous);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fake-node: fork");
        return 126;
    }
    if (pid == 0) {
        /* Like the node's Pdeathsig: the plugin hears about it if we are killed. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        sigprocmask(SIG_SETMASK, &previous, NULL);
        execv(argv[1], argv + 1);
        perror("fake-node: exec");
        _exit(127);
    }
    child = pid;
    sigprocmask(SIG_SETMASK, &previous, NULL);

    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("fake-node: waitpid");
            return 126;
        }
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}
