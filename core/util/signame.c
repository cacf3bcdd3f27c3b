/*
 * signame.c - the names of the signals a script may watch or that stop
 * the loop ("INT", "TERM", ...), one table both ways.
 */
#include <signal.h>
#include <string.h>

#include "util/util.h"

static const struct { const char *name; int signo; } signames[] = {
    {"INT", SIGINT}, {"TERM", SIGTERM}, {"HUP", SIGHUP}, {"QUIT", SIGQUIT},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"CHLD", SIGCHLD},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"WINCH", SIGWINCH},
    {NULL, 0}
};

const char *vnet_signame(int signo)
{
    for (int i = 0; signames[i].name; i++)
        if (signames[i].signo == signo) return signames[i].name;
    return "?";
}

int vnet_signo(const char *name)
{
    for (int i = 0; signames[i].name; i++)
        if (strcmp(signames[i].name, name) == 0)
            return signames[i].signo;
    return 0;
}
