/*
 * wbadmin-balancer-client: the program Workbench's custom balancing method runs for every new session
 * (Install-WbBalancer puts it at /usr/lib/rstudio-server/bin/rserver-balancer, and the full decider beside it as
 * rserver-balancer.decider). It asks the decision service (rserver-balancer.decider --serve, socket-activated by
 * workbenchadmin-balancer.socket) over its Unix socket and prints the answer. Whenever it cannot use an answer
 * (no service, a socket it does not trust, no answer in time, an answer that is not a decision, anything
 * unusual in what it reads), it execs the decider, which decides itself with the same logic, reports why on
 * stderr and syslog, and keeps the output and exit-code contract (WorkbenchAdmin.Core.Live.BalancerProgram).
 *
 * Why C: a user waits on this program at every login, and on this class of machine a spawn's cost is mostly the
 * kernel's (exec, page faults). Measured against /bin/true in the same run, an empty NativeAOT .NET program
 * already costs 1.7x its wall time and 2x its CPU before doing anything; this program, linked statically and
 * not position-independent, has no dynamic loader, no relocations and no threads (README: "How fast").
 *
 * Protocol (WorkbenchAdmin.Core.Live.DecisionProtocol): request "wbadmin-balancer/1\n<user>\n<nodes>\n", then end
 * of stream; answer "<exit code>\n<line printed, or empty>\n<stderr text>" to end of stream.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define VERSION_LINE "wbadmin-balancer/1"
#define MAX_MESSAGE (256 * 1024)
#define MAX_FILE (1024 * 1024)
#define DECIDER_SUFFIX ".decider"
#define ASKED_ARGUMENT "--asked"
#define DEFAULT_ROOT "/etc/rstudio"
#define DEFAULT_SOCKET "/run/workbenchadmin/balancer.sock"
#define DEFAULT_DEADLINE_MS 1000
#define MIN_DEADLINE_MS 50
#define MAX_DEADLINE_MS 60000

/* Install-WbBalancer and Get-WbBalancerPolicy recognise the program by this. */
__attribute__((used)) static const char marker[] = "wbadmin-balancer-client: WorkbenchAdmin's balancer program";

static int trusted(const struct stat *st, int allow_sticky);

static char self_path[PATH_MAX];
static char **saved_argv;
static struct timespec started;

static long elapsed_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - started.tv_sec) * 1000 + (now.tv_nsec - started.tv_nsec) / 1000000;
}

/*
 * Hands the call to the decider, which keeps every part of the contract. With a problem, the service was asked
 * and did not give a decision: the decider reports it and does not ask again, within what is left of the deadline.
 */
static void decide_with_decider(const char *problem)
{
    char decider[PATH_MAX + sizeof DECIDER_SUFFIX];
    snprintf(decider, sizeof decider, "%s%s", self_path, DECIDER_SUFFIX);
    char spent[32];
    snprintf(spent, sizeof spent, "%ld", elapsed_ms());
    char *asked[] = {decider, ASKED_ARGUMENT, spent, (char *)problem, NULL};
    char *plain[] = {decider, NULL};
    /* Run as root by path: only a decider no one else could have changed (its directory is the client's own). */
    struct stat st;
    int missing = lstat(decider, &st) != 0;
    if (missing || !S_ISREG(st.st_mode) || !trusted(&st, 0))
    {
        dprintf(2, "wbadmin-balancer: will not run the decider %s (%s): the session is refused; Install-WbBalancer puts it back\n", decider,
                missing ? strerror(errno) : "not a regular file that only root can change");
        _exit(1);
    }
    /* Arguments Workbench never passes reach the decider as they came, so that it says how it is called. */
    execv(decider, problem ? asked : saved_argv[1] ? saved_argv : plain);
    dprintf(2, "wbadmin-balancer: cannot run the decider %s: %s\n", decider, strerror(errno));
    _exit(1);
}

/* Root (or the user running us) alone can change it: owner, and no group/other write unless a sticky directory. */
static int trusted(const struct stat *st, int allow_sticky)
{
    if (st->st_uid != 0 && st->st_uid != geteuid()) return 0;
    if (allow_sticky && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX)) return 1;
    return (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* Every directory on the way to an absolute path is trusted and no component is a link (the decider judges links). */
static int trusted_way(const char *path)
{
    if (path[0] != '/' || strlen(path) >= PATH_MAX || strstr(path, "/../") || strstr(path, "/./")) return 0;
    char part[PATH_MAX];
    struct stat st;
    if (lstat("/", &st) != 0 || !trusted(&st, 1)) return 0;
    for (const char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/'))
    {
        size_t n = (size_t)(slash - path);
        memcpy(part, path, n);
        part[n] = 0;
        if (lstat(part, &st) != 0 || !S_ISDIR(st.st_mode) || !trusted(&st, 1)) return 0;
    }
    return 1;
}

/* A trusted regular file's content, NUL-terminated; NULL when missing (*missing set), untrusted or unreadable. */
static char *read_trusted(const char *path, int *missing)
{
    *missing = 0;
    if (!trusted_way(path)) return NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
    {
        *missing = errno == ENOENT;
        return NULL;
    }
    struct stat st;
    char *content = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && trusted(&st, 0) && st.st_size <= MAX_FILE && (content = malloc((size_t)st.st_size + 1)))
    {
        ssize_t total = 0, n;
        while (total < st.st_size && ((n = read(fd, content + total, (size_t)(st.st_size - total))) > 0 || (n < 0 && errno == EINTR)))
            if (n > 0) total += n;
        content[total] = 0;
        if ((off_t)strlen(content) != total) /* a NUL inside: not a file we read */
        {
            free(content);
            content = NULL;
        }
    }
    close(fd);
    return content;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\v' || *s == '\f') s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\v' || end[-1] == '\f')) end--;
    *end = 0;
    return s;
}

/*
 * The value of key in section (NULL: before any section) of a key=value file with whole-line '#' comments, as
 * ConfigDocument (Standard dialect) reads it. Returns 1 found, 0 not there, -1 when the file says something this
 * reader does not follow (a duplicate key, a line that is none of the forms): the decider then reads it.
 */
static int config_value(char *text, const char *section, const char *key, char *out, size_t size)
{
    const char *current = NULL;
    int found = 0;
    char *copy = strdup(text);
    if (!copy) return -1;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
    {
        char *t = trim(line);
        if (!*t || *t == '#') continue;
        if (*t == '[')
        {
            size_t n = strlen(t);
            if (t[n - 1] != ']') { found = -1; break; }
            t[n - 1] = 0;
            current = trim(t + 1);
            continue;
        }
        char *eq = strchr(t, '=');
        if (!eq) { found = -1; break; }
        *eq = 0;
        if (strcmp(trim(t), key) != 0 || (section ? !current || strcmp(current, section) != 0 : current != NULL)) continue;
        if (found) { found = -1; break; }
        char *value = trim(eq + 1);
        if (strlen(value) >= size) { found = -1; break; }
        strcpy(out, value);
        found = 1;
    }
    free(copy);
    return found;
}

/* Whether answer is exactly one entry of RSTUDIO_NODES (entries trimmed, as the decider reads them). */
static int is_entry(const char *nodes, const char *answer)
{
    size_t length = strlen(answer);
    if (length == 0) return 0;
    char *copy = strdup(nodes);
    if (!copy) return 0;
    int match = 0;
    char *save = NULL;
    for (char *entry = strtok_r(copy, ",", &save); entry && !match; entry = strtok_r(NULL, ",", &save))
        match = strcmp(trim(entry), answer) == 0;
    free(copy);
    return match;
}

static int wait_for(int fd, short events, long deadline_ms)
{
    for (;;)
    {
        long left = deadline_ms - elapsed_ms();
        if (left <= 0) return 0;
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return -1;
    }
}

static int write_all(int fd, const char *data, size_t length)
{
    while (length > 0)
    {
        ssize_t n = write(fd, data, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        data += n;
        length -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    clock_gettime(CLOCK_MONOTONIC, &started);
    saved_argv = argv;
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n <= 0 || (size_t)n >= sizeof self_path - sizeof DECIDER_SUFFIX)
    {
        dprintf(2, "wbadmin-balancer: cannot find its own path (/proc/self/exe): %s\n", n < 0 ? strerror(errno) : "too long");
        return 1;
    }
    self_path[n] = 0;

    const char *user = getenv("RSTUDIO_USERNAME");
    const char *nodes = getenv("RSTUDIO_NODES");
    /* Anything but a plain call (arguments, a missing or multi-line value) is the decider's to answer and explain. */
    if (argc > 1 || !user || !nodes || !*user || !*nodes || strchr(user, '\n') || strchr(nodes, '\n'))
        decide_with_decider(NULL);

    /* The policy's socket and deadline, read as the decider reads them; anything unusual: the decider reads it. */
    char pointer[PATH_MAX + 8], root[PATH_MAX] = DEFAULT_ROOT, socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)] = DEFAULT_SOCKET;
    char deadline_text[16] = "";
    int missing;
    snprintf(pointer, sizeof pointer, "%s.conf", self_path);
    char *text = read_trusted(pointer, &missing);
    if (text)
    {
        if (config_value(text, NULL, "config-root", root, sizeof root) != 1 || root[0] != '/') decide_with_decider(NULL);
        free(text);
    }
    else if (!missing) decide_with_decider(NULL);
    char policy_path[PATH_MAX + 32];
    snprintf(policy_path, sizeof policy_path, "%s/workbenchadmin.conf", root);
    text = read_trusted(policy_path, &missing);
    if (text)
    {
        if (config_value(text, "balancer", "service-socket", socket_path, sizeof socket_path) < 0 ||
            config_value(text, "balancer", "deadline-ms", deadline_text, sizeof deadline_text) < 0)
            decide_with_decider(NULL);
        free(text);
    }
    else if (!missing) decide_with_decider(NULL);
    long deadline = DEFAULT_DEADLINE_MS;
    if (deadline_text[0])
    {
        char *end;
        deadline = strtol(deadline_text, &end, 10);
        if (*end || deadline < MIN_DEADLINE_MS || deadline > MAX_DEADLINE_MS) decide_with_decider(NULL);
    }
    /* Half the deadline at most: if the service fails, the decider still has time to read and decide. */
    long wait = deadline / 2;

    /* Only a socket no one else could have planted is asked: whoever answers there chooses every user's node. */
    struct stat st;
    if (socket_path[0] != '/' || !trusted_way(socket_path) || lstat(socket_path, &st) != 0 || !S_ISSOCK(st.st_mode) || !trusted(&st, 0))
        decide_with_decider(NULL);

    char problem[512];
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strcpy(address.sun_path, socket_path);
    if (fd < 0 || (connect(fd, (struct sockaddr *)&address, sizeof address) != 0 && errno != EINPROGRESS && errno != EAGAIN))
    {
        snprintf(problem, sizeof problem, "the decision service at %s could not be asked: %s", socket_path, strerror(errno));
        decide_with_decider(problem);
    }

    size_t request_length = strlen(VERSION_LINE) + strlen(user) + strlen(nodes) + 3;
    char *request = malloc(request_length + 1);
    char *answer = malloc(MAX_MESSAGE + 1);
    if (!request || !answer) decide_with_decider("the decision service was not asked: out of memory");
    snprintf(request, request_length + 1, "%s\n%s\n%s\n", VERSION_LINE, user, nodes);
    size_t sent = 0, received = 0;
    const char *failure = NULL;
    while (sent < request_length && !failure)
    {
        int ready = wait_for(fd, POLLOUT, wait);
        if (ready <= 0) { failure = ready == 0 ? "timeout" : strerror(errno); break; }
        ssize_t w = send(fd, request + sent, request_length - sent, MSG_NOSIGNAL);
        if (w > 0) sent += (size_t)w;
        else if (w < 0 && errno != EAGAIN && errno != EINTR) failure = strerror(errno);
    }
    if (!failure) shutdown(fd, SHUT_WR);
    while (!failure)
    {
        int ready = wait_for(fd, POLLIN, wait);
        if (ready <= 0) { failure = ready == 0 ? "timeout" : strerror(errno); break; }
        ssize_t r = recv(fd, answer + received, MAX_MESSAGE - received, 0);
        if (r == 0) break;
        if (r > 0 && (received += (size_t)r) == MAX_MESSAGE) failure = "an answer too large";
        else if (r < 0 && errno != EAGAIN && errno != EINTR) failure = strerror(errno);
    }
    close(fd);
    if (failure && strcmp(failure, "timeout") == 0)
    {
        snprintf(problem, sizeof problem, "the decision service at %s did not answer within %ld ms", socket_path, wait);
        decide_with_decider(problem);
    }
    if (failure)
    {
        snprintf(problem, sizeof problem, "the decision service at %s could not be asked: %s", socket_path, failure);
        decide_with_decider(problem);
    }
    answer[received] = 0;

    /* "<code>\n<output>\n<stderr>": used only when it is an answer the decider could have given itself. */
    char *first = memchr(answer, '\n', received);
    char *second = first ? memchr(first + 1, '\n', received - (size_t)(first + 1 - answer)) : NULL;
    int code = -1;
    if (second && first > answer && first - answer <= 3 && strspn(answer, "0123456789") == (size_t)(first - answer) && strlen(answer) == received)
    {
        *first = 0;
        *second = 0;
        code = atoi(answer);
    }
    const char *output = first ? first + 1 : "";
    int valid = (code == 0 && is_entry(nodes, output)) || ((code == 1 || code == 2) && second && !*output);
    if (!valid)
    {
        snprintf(problem, sizeof problem, "the decision service at %s gave an answer that is not a decision", socket_path);
        decide_with_decider(problem);
    }
    const char *error = second + 1;
    /* The service already sent its messages to syslog. */
    write_all(2, error, strlen(error));
    if (*output)
    {
        size_t length = strlen(output);
        second[0] = '\n'; /* the output line and its newline, in one write */
        if (write_all(1, output, length + 1) != 0) return 1;
    }
    return code;
}
