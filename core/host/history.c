/*
 * history.c - the REPL's history file (VNET_HISTORY, else ~/.vnet_history),
 * capped at HISTORY_MAX entries; a chunk typed over several lines is one
 * entry. repl.c opens it when stdin is a terminal, saves every chunk typed,
 * and closes it at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <readline/readline.h>
#include <readline/history.h>

#include "host/host.h"

#define HISTORY_MAX 1000

/* The file's path and fd, process-wide: the host runs one REPL. */
static char *hist_path; /* NULL: no history file */
/* The history file is opened once, without following a symbolic link,
 * and used only through that fd: a root REPL must not append what is typed
 * to whatever file ~/.vnet_history or $VNET_HISTORY points to (issue 9).
 * An entry is a chunk as typed, lines joined by "\n"; in the file each
 * entry follows a "#<seconds>" line, as bash writes with HISTTIMEFORMAT,
 * so a multi-line chunk comes back as one entry. A line before any such
 * stamp (files of earlier versions) is an entry of its own. */
static int hist_fd = -1;

static void history_fail(const char *why)
{
    fprintf(stderr, "vnet: history file %s: %s (history not saved)\n",
            hist_path, why);
    free(hist_path);
    hist_path = NULL;
    if (hist_fd >= 0)
        close(hist_fd);
    hist_fd = -1;
}

static void history_error(int err)
{
    history_fail(strerror(err));
}

static int is_stamp(const char *s, size_t n)
{
    if (n < 2 || s[0] != '#')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Call fn(off, text, n) for each entry of the file's text: off is where
 * the entry (its stamp, if any) starts. Returns the number of entries. */
typedef void entry_fn(size_t off, const char *text, size_t n);
static size_t history_parse(const char *buf, size_t len, entry_fn *fn)
{
    size_t count = 0, start = 0, text = 0, tend = 0, i = 0;
    int pending = 0, stamped = 0;
    while (i < len) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - buf) : len;
        int stamp = is_stamp(buf + i, end - i);
        if (stamp || !stamped) {
            if (pending && tend > text && fn) fn(start, buf + text, tend - text);
            count += pending && tend > text;
            pending = 1;
            start = i;
            stamped |= stamp;
            text = stamp ? end + 1 : i;
            tend = stamp ? text : end;
        } else {
            tend = end;     /* one more line of the stamped entry */
        }
        i = nl ? end + 1 : len;
    }
    if (pending && tend > text && fn) fn(start, buf + text, tend - text);
    return count + (pending && tend > text);
}

static void add_entry(size_t off, const char *text, size_t n)
{
    (void)off;
    char *line = strndup(text, n);
    if (line) add_history(line);
    free(line);
}

static size_t keep_from;    /* history_close: where the kept entries start */
static size_t drop_count;
static void find_kept(size_t off, const char *text, size_t n)
{
    (void)text, (void)n;
    if (drop_count-- == 0)
        keep_from = off;
}

/* The whole file, from its fd; NULL (errno set) on failure. */
static char *history_read(size_t *len)
{
    size_t cap = 0, n = 0;
    char *buf = NULL;
    for (;;) {
        if (n == cap) {
            char *more = realloc(buf, cap = cap ? 2 * cap : 4096);
            if (more == NULL)
                break;
            buf = more;
        }
        ssize_t got = pread(hist_fd, buf + n, cap - n, (off_t)n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            break;
        if (got == 0) {
            *len = n;
            return buf;
        }
        n += (size_t)got;
    }
    int e = errno;
    free(buf);
    errno = e;
    return NULL;
}

void vnet_history_open(void)
{
    const char *env = getenv("VNET_HISTORY");
    const char *home = getenv("HOME");
    if (env)
        hist_path = env[0] ? strdup(env) : NULL;
    else if (home && home[0] && asprintf(&hist_path, "%s/.vnet_history", home) < 0)
        hist_path = NULL;
    stifle_history(HISTORY_MAX);
    if (hist_path == NULL)
        return;
    /* O_NONBLOCK: a FIFO put there must not hang the open */
    hist_fd = open(hist_path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW |
                   O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
    if (hist_fd < 0) {
        history_fail(errno == ELOOP ? "a symbolic link, not followed"
                                    : strerror(errno));
        return;
    }
    struct stat st;
    char why[96];
    if (fstat(hist_fd, &st) < 0) {
        history_error(errno);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        history_fail("not a regular file");
        return;
    }
    if (st.st_uid != geteuid()) {
        snprintf(why, sizeof why, "owned by uid %u, not by uid %u (you)",
                 (unsigned)st.st_uid, (unsigned)geteuid());
        history_fail(why);
        return;
    }
    if (st.st_nlink != 1) { /* a hard link to a file of yours elsewhere */
        snprintf(why, sizeof why, "has %lu hard links, so it is also "
                 "another file", (unsigned long)st.st_nlink);
        history_fail(why);
        return;
    }
    fcntl(hist_fd, F_SETFL, O_APPEND);
    size_t len;
    char *buf = history_read(&len);
    if (buf == NULL) {
        history_error(errno);
        return;
    }
    history_parse(buf, len, add_entry);
    free(buf);
}

void vnet_history_save(const char *entry)
{
    HIST_ENTRY *last = history_get(history_base + history_length - 1);
    if (entry[0] == '\0' || (last && strcmp(last->line, entry) == 0))
        return;
    add_history(entry);
    if (hist_fd < 0)
        return;
    char *rec;
    int n = asprintf(&rec, "#%lld\n%s\n", (long long)time(NULL), entry);
    if (n < 0) {
        history_error(ENOMEM);
        return;
    }
    ssize_t w = write(hist_fd, rec, (size_t)n);
    free(rec);
    if (w != n)
        history_error(w < 0 ? errno : EIO);
}

/* Keep the file to its last HISTORY_MAX entries (other REPLs may have
 * added to it meanwhile: the file, not this REPL's memory, says which). */
void vnet_history_close(void)
{
    size_t len;
    char *buf = hist_fd >= 0 ? history_read(&len) : NULL;
    if (buf) {
        size_t count = history_parse(buf, len, NULL);
        if (count > HISTORY_MAX) {
            drop_count = count - HISTORY_MAX;
            keep_from = 0;
            history_parse(buf, len, find_kept);
            if (ftruncate(hist_fd, 0) < 0 ||
                write(hist_fd, buf + keep_from, len - keep_from) < 0)
                history_error(errno);
        }
        free(buf);
    }
    if (hist_fd >= 0)
        close(hist_fd);
    hist_fd = -1;
    free(hist_path);
    hist_path = NULL;
    clear_history();
}

