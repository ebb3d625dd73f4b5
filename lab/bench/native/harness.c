/*
 * perf-lab native benchmark harness.
 *
 * Usage: perf-lab-harness SPEC_FILE
 *
 * The spec file (written by lab/bench/harness.ts) has one "key value" per line:
 *   compressed PATH | expected PATH | rounds N | warmup N | timeout-ms N | max-seconds N | pin-cpu yes|no
 *   memory-limit-mb N (extra address space a decoder may use; Linux)
 *   cli-output-dir PATH (optional: a CLI decoder's stdout goes to an unlinked file there, e.g. /dev/shm, not a pipe)
 *   contender NAME libdeflate LIBRARY_PATH
 *   contender NAME cabi LIBRARY_PATH
 *   contender NAME rust-slice LIBRARY_PATH  (the cabi call under the rust adapter's name:
 *                                           perf_lab_rust_decompress_slice)
 *   contender NAME owned LIBRARY_PATH       (the decoder allocates its output: perf_lab_rust_decompress_owned)
 *   contender NAME libdeflate-alloc LIBRARY_PATH  (libdeflate in that regime: a fresh malloc per decode)
 *   contender NAME cli          (followed by "arg VALUE" lines and "end")
 *   cpus LIST                   (after a contender: the CPUs its worker and every thread it starts run on; Linux)
 *   outside-allowance-ms N      (CPU a contender may use outside its decode calls in a round before its worker is
 *                                restarted at the round's end)
 *
 * Fairness: each worker measures the CPU time of its decode call (all its threads and the processes it waited for)
 * and the CPU its other threads and its left-over processes use outside that call, while it is not its turn: a
 * thread left spinning after a call returns, or a process a CLI decoder left in the background, slows whoever
 * decodes next. Workers are child subreapers (Linux), so what a CLI decoder leaves behind stays in its worker's tree;
 * at each round's end every worker kills what it left behind and reports that CPU, and a worker over the allowance
 * is restarted (a thread cannot be killed alone).
 *
 * Every contender runs in its own worker process, so a crash or hang is reported
 * for that contender alone. Workers load the input once; the parent drives
 * interleaved rounds (the order rotates each round: AB, BA, ...) and the worker
 * times each decode with the raw monotonic clock and verifies the whole output
 * byte for byte against the expected file (plus a canary and a guard page after
 * the output buffer). Results are JSON lines on stdout.
 *
 * Containment: whatever a decoder starts (forks, setsid, double forks, processes that ignore SIGTERM or keep
 * pipes open) ends with the run. Workers and commands never hold the harness's stdout or stderr (so the caller
 * never waits for an EOF a stray process withholds); on Linux the harness is a child subreaper, so orphaned
 * descendants are reparented to it and killed after every round and at the end, and workers die with it
 * (PR_SET_PDEATHSIG); SIGTERM, SIGINT and SIGHUP kill every worker before the harness exits. macOS has no
 * subreaper: a descendant that leaves the worker's process group with setsid() can outlive the run there.
 */
#if defined(__APPLE__)
#define _DARWIN_C_SOURCE
#else
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#if defined(__APPLE__)
#include <pthread.h>
#include <sys/qos.h>
#else
#include <dirent.h>
#include <sched.h>
#include <sys/prctl.h>
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONTENDERS 8
#define MAX_ARGS 64
#define CANARY_BYTES 64
#define CANARY_VALUE 0xC3
/* Larger than the last-level cache of the machines we run on (Apple M1-M3 L2 + SLC, x86 L3). */
#define EVICT_BYTES (96u << 20)
#define POISON_STRIDE 4096

enum kind { KIND_LIBDEFLATE, KIND_CABI, KIND_CLI, KIND_OWNED, KIND_LIBDEFLATE_ALLOC };

struct contender {
    char name[128];
    enum kind kind;
    char library[4096];
    const char *symbol; /* the C-ABI function a cabi contender exports */
    char *argv[MAX_ARGS + 1];
    int argc;
    pid_t pid;
    int command_fd;
    int result_fd;
    int failed;
    int cpus[256];
    int cpu_count;
    uint64_t outside_round_ns; /* CPU outside its decode calls in this round, as reported */
};

static struct contender contenders[MAX_CONTENDERS];
static int contender_count;
static char compressed_path[4096];
static char expected_path[4096];
static long rounds = 10;
static long warmup = 1;
static long timeout_ms = 60000;
static double max_seconds = 0;
static int pin_cpu = 1;
static long memory_limit_mb = 0;
static char cli_output_dir[4096];
static long outside_allowance_ms = 2;
static struct contender *last_contender;

static uint64_t now_ns(void) {
#if defined(__APPLE__)
    return clock_gettime_nsec_np(CLOCK_UPTIME_RAW);
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
#endif
}

static void json_string(FILE *out, const char *text) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f) fprintf(out, "\\u%04x", *p);
        else fputc(*p, out);
    }
    fputc('"', out);
}

static void fatal(const char *format, ...) {
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    printf("{\"type\":\"fatal\",\"message\":");
    json_string(stdout, message);
    printf("}\n");
    fflush(stdout);
    exit(2);
}

static void trim_newline(char *line) {
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
}

/* A whole number in [min, max] for a spec key, or a fatal error naming it ("timeout-ms 10x" is refused, not 10). */
static long spec_long(const char *key, const char *value, long min, long max) {
    char *end;
    errno = 0;
    long number = strtol(value, &end, 10);
    if (end == value || *end != '\0' || errno == ERANGE || number < min || number > max)
        fatal("spec: %s must be a whole number from %ld to %ld, got '%s'", key, min, max, value);
    return number;
}

/* A path for a spec key, copied whole: one longer than the buffer is refused, never cut. */
static void spec_path(const char *key, char *into, size_t cap, const char *value) {
    int n = snprintf(into, cap, "%s", value);
    if (n < 0 || (size_t)n >= cap) fatal("spec: %s is longer than %zu bytes: '%.80s...'", key, cap - 1, value);
}

static void read_spec(const char *path) {
    FILE *spec = fopen(path, "r");
    if (!spec) fatal("cannot open spec file %s: %s", path, strerror(errno));
    char line[8192];
    struct contender *open_cli = NULL;
    while (fgets(line, sizeof line, spec)) {
        trim_newline(line);
        char *value = strchr(line, ' ');
        if (value) *value++ = '\0';
        else value = line + strlen(line);
        if (open_cli) {
            if (strcmp(line, "arg") == 0) {
                if (open_cli->argc >= MAX_ARGS)
                    fatal("contender %s has more than %d arguments", open_cli->name, MAX_ARGS);
                open_cli->argv[open_cli->argc++] = strdup(value);
            } else if (strcmp(line, "end") == 0) {
                if (open_cli->argc == 0) fatal("contender %s has an empty command", open_cli->name);
                open_cli = NULL;
            } else {
                fatal("spec: expected 'arg' or 'end' inside contender %s, got '%s'", open_cli->name, line);
            }
        } else if (strcmp(line, "compressed") == 0) {
            spec_path("compressed", compressed_path, sizeof compressed_path, value);
        } else if (strcmp(line, "expected") == 0) {
            spec_path("expected", expected_path, sizeof expected_path, value);
        } else if (strcmp(line, "rounds") == 0) {
            rounds = spec_long("rounds", value, 1, 1000000000L);
        } else if (strcmp(line, "warmup") == 0) {
            warmup = spec_long("warmup", value, 0, 1000000000L);
        } else if (strcmp(line, "timeout-ms") == 0) {
            timeout_ms = spec_long("timeout-ms", value, 1, 24L * 3600 * 1000);
        } else if (strcmp(line, "memory-limit-mb") == 0) {
            memory_limit_mb = spec_long("memory-limit-mb", value, 0, 1L << 30);
        } else if (strcmp(line, "cli-output-dir") == 0) {
            spec_path("cli-output-dir", cli_output_dir, sizeof cli_output_dir, value);
        } else if (strcmp(line, "pin-cpu") == 0) {
            pin_cpu = strcmp(value, "no") != 0;
        } else if (strcmp(line, "cpus") == 0) {
            if (!last_contender) fatal("spec: 'cpus' before any contender");
            for (char *p = value; *p;) {
                char *end;
                errno = 0;
                long cpu = strtol(p, &end, 10);
                if (end == p || errno == ERANGE || cpu < 0 || cpu > 65535 || last_contender->cpu_count >= 256)
                    fatal("spec: bad cpus '%s'", value);
                last_contender->cpus[last_contender->cpu_count++] = (int)cpu;
                p = *end == ',' ? end + 1 : end;
                if (*end && *end != ',') fatal("spec: bad cpus '%s'", value);
            }
        } else if (strcmp(line, "outside-allowance-ms") == 0) {
            outside_allowance_ms = spec_long("outside-allowance-ms", value, 0, 24L * 3600 * 1000);
        } else if (strcmp(line, "max-seconds") == 0) {
            char *end;
            errno = 0;
            max_seconds = strtod(value, &end);
            if (end == value || *end != '\0' || errno == ERANGE || !(max_seconds >= 0))
                fatal("spec: max-seconds must be a number >= 0, got '%s'", value);
        } else if (strcmp(line, "contender") == 0) {
            if (contender_count >= MAX_CONTENDERS) fatal("more than %d contenders", MAX_CONTENDERS);
            struct contender *c = &contenders[contender_count++];
            last_contender = c;
            char kind[32];
            int used = 0;
            if (sscanf(value, "%127s %31s %n", c->name, kind, &used) < 2) fatal("spec: bad contender line '%s'", value);
            if (strcmp(kind, "cli") == 0) {
                c->kind = KIND_CLI;
                open_cli = c;
            } else {
                /* The rust adapter's shim exports its own names, so a decoder with a C ABI of its own cannot clash. */
                c->symbol = strcmp(kind, "rust-slice") == 0 ? "perf_lab_rust_decompress_slice"
                                                            : "perf_lab_gzip_decompress";
                c->kind = strcmp(kind, "libdeflate") == 0 ? KIND_LIBDEFLATE
                    : strcmp(kind, "cabi") == 0 || strcmp(kind, "rust-slice") == 0 ? KIND_CABI
                    : strcmp(kind, "owned") == 0 ? KIND_OWNED
                    : strcmp(kind, "libdeflate-alloc") == 0 ? KIND_LIBDEFLATE_ALLOC : -1;
                if ((int)c->kind < 0) fatal("spec: unknown contender kind '%s'", kind);
                spec_path("a contender's library", c->library, sizeof c->library, value + used);
            }
        } else if (line[0] != '\0' && line[0] != '#') {
            fatal("spec: unknown key '%s'", line);
        }
    }
    fclose(spec);
    if (open_cli) fatal("spec: contender %s is missing 'end'", open_cli->name);
    if (!compressed_path[0] || !expected_path[0]) fatal("spec: 'compressed' and 'expected' are required");
    if (contender_count == 0) fatal("spec: no contenders");
    if (rounds < 1 || warmup < 0 || timeout_ms < 1) fatal("spec: rounds must be >= 1, warmup >= 0, timeout-ms >= 1");
}

/* ---- worker ---------------------------------------------------------------- */

typedef int (*cabi_decompress_fn)(const uint8_t *, size_t, uint8_t *, size_t, size_t *);
/* The allocating regime: the decoder returns its own buffer (a Rust Vec's pointer, length, capacity) and frees it
   later. */
typedef int (*owned_decompress_fn)(const uint8_t *, size_t, uint8_t **, size_t *, size_t *);
typedef void (*owned_free_fn)(uint8_t *, size_t, size_t);
typedef void *(*libdeflate_alloc_fn)(void);
typedef int (*libdeflate_gzip_fn)(void *, const void *, size_t, void *, size_t, size_t *);

static void reply(int fd, const char *format, ...) {
    char message[1024];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(message, sizeof message - 1, format, args);
    va_end(args);
    if (n < 0) n = 0;
    if (n > (int)sizeof message - 2) n = (int)sizeof message - 2;
    message[n++] = '\n';
    ssize_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, message + off, (size_t)(n - off));
        if (w <= 0) _exit(3);
        off += w;
    }
}

/* A regular file only (opened non-blocking, so a FIFO cannot hang the open; a device is refused, not read forever). */
static uint8_t *read_whole_file(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return NULL; }
    if (!S_ISREG(st.st_mode)) { close(fd); errno = EINVAL; return NULL; }
    uint8_t *data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    size_t done = 0;
    while (data && done < (size_t)st.st_size) {
        ssize_t r = read(fd, data + done, (size_t)st.st_size - done);
        if (r <= 0) { free(data); data = NULL; break; }
        done += (size_t)r;
    }
    close(fd);
    *size = done;
    return data;
}

/*
 * Runs a CLI decoder once, capturing its stdout into out; returns a reason string on failure. The decode ends when
 * the command exits (*ended_ns). Its stdout is a pipe drained with large reads, or, with cli-output-dir, an unlinked
 * file in a RAM-backed folder read back after the exit (outside the timing): no pipe between it and its speed.
 */
static const char *run_cli(struct contender *c, uint8_t *out, size_t out_cap, size_t *out_len, uint64_t *ended_ns) {
    static char reason[512];
    static unsigned long serial = 0;
    int file_fd = -1;
    int pipe_fds[2] = {-1, -1};
    if (cli_output_dir[0]) {
        char path[4200];
        int n = snprintf(path, sizeof path, "%s/perf-lab-out-%ld-%lu", cli_output_dir, (long)getpid(), serial++);
        if (n < 0 || (size_t)n >= sizeof path) return "the output file's path in cli-output-dir is too long";
        file_fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
        if (file_fd < 0) {
            snprintf(reason, sizeof reason, "cannot create an output file in cli-output-dir: %s", strerror(errno));
            return reason;
        }
        unlink(path); /* gone with the last descriptor, whatever happens */
    } else if (pipe(pipe_fds) != 0) {
        return "cannot create a pipe";
    }
#if defined(F_SETPIPE_SZ)
    if (pipe_fds[0] >= 0) fcntl(pipe_fds[0], F_SETPIPE_SZ, 1 << 20);
#endif
    /* Its stderr: an unlinked file, so nothing it leaves running holds a pipe, and what it says is capped. */
    FILE *errors = tmpfile();
    pid_t child = fork();
    if (child < 0) return "cannot fork";
    if (child == 0) {
        dup2(file_fd >= 0 ? file_fd : pipe_fds[1], STDOUT_FILENO);
        int null_fd = open("/dev/null", O_RDWR);
        if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
        dup2(errors ? fileno(errors) : null_fd, STDERR_FILENO);
        if (pipe_fds[0] >= 0) close(pipe_fds[0]), close(pipe_fds[1]);
        if (file_fd >= 0) close(file_fd);
        execvp(c->argv[0], c->argv);
        _exit(127);
    }
    size_t total = 0;
    int status = 0, exited = 0;
    if (pipe_fds[0] >= 0) {
        /*
         * Drain until EOF or until the command has exited and the pipe is empty: a process it left behind may hold
         * the pipe open forever, so EOF is never waited for once the command is gone.
         */
        close(pipe_fds[1]);
        fcntl(pipe_fds[0], F_SETFL, fcntl(pipe_fds[0], F_GETFL) | O_NONBLOCK);
        uint8_t scratch[65536];
        for (;;) {
            uint8_t *target = total < out_cap ? out + total : scratch;
            size_t room = total < out_cap ? out_cap - total : sizeof scratch;
            ssize_t r = read(pipe_fds[0], target, room);
            if (r > 0) { total += (size_t)r; continue; }
            if (r == 0) break;
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) break;
            if (exited) break; /* exited, and nothing more to read */
            pid_t done = waitpid(child, &status, WNOHANG);
            if (done == child) { exited = 1; *ended_ns = now_ns(); continue; }
            struct pollfd pfd = {.fd = pipe_fds[0], .events = POLLIN};
            poll(&pfd, 1, 5);
        }
        close(pipe_fds[0]);
    }
    if (!exited) {
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        *ended_ns = now_ns();
    }
    if (file_fd >= 0) {
        struct stat st;
        total = fstat(file_fd, &st) == 0 ? (size_t)st.st_size : 0;
        size_t done = 0, want = total < out_cap ? total : out_cap;
        while (done < want) {
            ssize_t r = pread(file_fd, out + done, want - done, (off_t)done);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            done += (size_t)r;
        }
        close(file_fd);
    }
    *out_len = total;
    /* The last line of what it said (printable ASCII, at most 160 bytes), for the failure message. */
    char said[200] = "";
    if (errors) {
        long size = (fseek(errors, 0, SEEK_END) == 0) ? ftell(errors) : 0;
        long from = size > 160 ? size - 160 : 0;
        size_t n = 0;
        if (size > 0 && fseek(errors, from, SEEK_SET) == 0) n = fread(said + 2, 1, (size_t)(size - from), errors);
        fclose(errors);
        while (n > 0 && isspace((unsigned char)said[2 + n - 1])) n--;
        /* The last line: after the last line break or other control byte (a NUL flood is not a message). */
        size_t start = n;
        while (start > 0 && isprint((unsigned char)said[2 + start - 1])) start--;
        size_t kept = 0;
        for (size_t i = start; i < n; i++) said[2 + kept++] = isprint((unsigned char)said[2 + i]) ? said[2 + i] : '?';
        if (kept) said[0] = ':', said[1] = ' ', said[2 + kept] = '\0';
        else said[0] = '\0';
    }
    if (WIFSIGNALED(status)) {
        snprintf(reason, sizeof reason, "command killed by signal %d (%s)%s", WTERMSIG(status),
                 strsignal(WTERMSIG(status)), said);
        return reason;
    }
    if (WEXITSTATUS(status) == 127) return "command could not be executed (exit 127)";
    if (WEXITSTATUS(status) != 0) {
        snprintf(reason, sizeof reason, "command exited with status %d%s", WEXITSTATUS(status), said);
        return reason;
    }
    return NULL;
}

static uint64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t children_cpu_ns(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_CHILDREN, &usage) != 0) return 0;
    return ((uint64_t)usage.ru_utime.tv_sec + (uint64_t)usage.ru_stime.tv_sec) * 1000000000ull
        + ((uint64_t)usage.ru_utime.tv_usec + (uint64_t)usage.ru_stime.tv_usec) * 1000ull;
}

/* CPU of everything in this worker but its main thread: the decoder's own threads and the processes it left. */
static uint64_t others_cpu_ns(uint64_t main_thread_ns) {
    uint64_t process = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    return (process > main_thread_ns ? process - main_thread_ns : 0) + children_cpu_ns();
}

/*
 * Kills every process left in this worker's tree (Linux: it is a subreaper, so what a CLI decoder or a forking
 * library left running was reparented to it) and reaps them, so their CPU time is counted (RUSAGE_CHILDREN).
 */
static void kill_leftovers(void) {
#if defined(__linux__)
    for (int pass = 0; pass < 50; pass++) {
        int killed = 0;
        DIR *tasks = opendir("/proc/self/task");
        if (!tasks) return;
        struct dirent *task;
        while ((task = readdir(tasks))) {
            if (task->d_name[0] == '.') continue;
            char path[320];
            int n = snprintf(path, sizeof path, "/proc/self/task/%s/children", task->d_name);
            FILE *list = n > 0 && (size_t)n < sizeof path ? fopen(path, "r") : NULL;
            if (!list) continue;
            long child;
            while (fscanf(list, "%ld", &child) == 1) {
                kill(-(pid_t)child, SIGKILL);
                kill((pid_t)child, SIGKILL);
                killed++;
            }
            fclose(list);
        }
        closedir(tasks);
        while (waitpid(-1, NULL, killed ? 0 : WNOHANG) > 0) {}
        if (!killed) return;
    }
#endif
}

/*
 * The decoder a worker times, bound once: `decode` runs one decode, `release` frees an output the decoder (or, in the
 * allocating regime, the lab) allocated for it, after timing and verification. A contender whose ops have no
 * `release` decodes into the lab's guarded buffer (canaries checked); one with `release` owns its output.
 */
struct decoder;

struct decode_result {
    uint8_t *produced;  /* where the output is: the lab's buffer, or the decoder's own */
    size_t out_len;
    size_t produced_cap; /* the capacity of an owned output (a Rust Vec's), for its release */
    uint64_t ended_ns;   /* a command: when it exited (0: when decode returned) */
};

struct decoder_ops {
    const char *(*decode)(struct decoder *, uint8_t *out, size_t out_cap, struct decode_result *, char *, size_t);
    void (*release)(struct decoder *, struct decode_result *);
};

struct decoder {
    const struct decoder_ops *ops;
    struct contender *contender;
    const uint8_t *input;
    size_t in_len;
    void *decompressor; /* libdeflate's */
    cabi_decompress_fn cabi;
    owned_decompress_fn owned;
    owned_free_fn owned_free;
    libdeflate_gzip_fn gzip_decompress;
};

static const char *decode_cabi(struct decoder *d, uint8_t *out, size_t out_cap, struct decode_result *result,
                               char *reason, size_t cap) {
    int rc = d->cabi(d->input, d->in_len, out, out_cap, &result->out_len);
    if (rc == 0) return NULL;
    snprintf(reason, cap, "%s returned error code %d", d->contender->symbol, rc);
    return reason;
}

static const char *decode_libdeflate(struct decoder *d, uint8_t *out, size_t out_cap, struct decode_result *result,
                                     char *reason, size_t cap) {
    int rc = d->gzip_decompress(d->decompressor, d->input, d->in_len, out, out_cap, &result->out_len);
    if (rc == 0) return NULL;
    snprintf(reason, cap, "libdeflate_gzip_decompress returned result %d", rc);
    return reason;
}

static const char *decode_owned(struct decoder *d, uint8_t *out, size_t out_cap, struct decode_result *result,
                                char *reason, size_t cap) {
    (void)out, (void)out_cap;
    result->produced = NULL;
    int rc = d->owned(d->input, d->in_len, &result->produced, &result->out_len, &result->produced_cap);
    if (rc != 0) snprintf(reason, cap, "perf_lab_rust_decompress_owned returned error code %d", rc);
    else if (!result->produced && result->out_len)
        snprintf(reason, cap, "perf_lab_rust_decompress_owned returned no buffer");
    else return NULL;
    return reason;
}

static void release_owned(struct decoder *d, struct decode_result *result) {
    if (result->produced) d->owned_free(result->produced, result->out_len, result->produced_cap);
}

/* libdeflate in the allocating regime: a fresh malloc of the expected size per decode (out_cap), freed after. */
static const char *decode_libdeflate_alloc(struct decoder *d, uint8_t *out, size_t out_cap,
                                           struct decode_result *result, char *reason, size_t cap) {
    (void)out;
    result->produced = malloc(out_cap ? out_cap : 1);
    int rc = result->produced
        ? d->gzip_decompress(d->decompressor, d->input, d->in_len, result->produced, out_cap, &result->out_len)
        : -1;
    if (rc == 0) return NULL;
    snprintf(reason, cap, "libdeflate_gzip_decompress returned result %d", rc);
    return reason;
}

static void release_malloc(struct decoder *d, struct decode_result *result) {
    (void)d;
    free(result->produced);
}

static const char *decode_cli(struct decoder *d, uint8_t *out, size_t out_cap, struct decode_result *result,
                              char *reason, size_t cap) {
    (void)reason, (void)cap;
    return run_cli(d->contender, out, out_cap, &result->out_len, &result->ended_ns);
}

static const struct decoder_ops OPS[] = {
    [KIND_LIBDEFLATE] = {decode_libdeflate, NULL},
    [KIND_CABI] = {decode_cabi, NULL},
    [KIND_CLI] = {decode_cli, NULL},
    [KIND_OWNED] = {decode_owned, release_owned},
    [KIND_LIBDEFLATE_ALLOC] = {decode_libdeflate_alloc, release_malloc},
};

static void worker_fail(int result_fd, const char *format, ...) {
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    reply(result_fd, "error %s", message);
    _exit(1);
}

/* Loads the decoder's library and binds its entry points (a CLI decoder has none); the one place kinds differ. */
static void bind_decoder(struct decoder *d, struct contender *c, int result_fd) {
    d->ops = &OPS[c->kind];
    d->contender = c;
    if (c->kind == KIND_CLI) return;
    void *library = dlopen(c->library, RTLD_NOW | RTLD_LOCAL);
    if (!library) worker_fail(result_fd, "cannot load %s: %s", c->library, dlerror());
    if (c->kind == KIND_CABI) {
        d->cabi = (cabi_decompress_fn)dlsym(library, c->symbol);
        if (!d->cabi) worker_fail(result_fd, "%s does not export %s", c->library, c->symbol);
    } else if (c->kind == KIND_OWNED) {
        d->owned = (owned_decompress_fn)dlsym(library, "perf_lab_rust_decompress_owned");
        d->owned_free = (owned_free_fn)dlsym(library, "perf_lab_rust_free_output");
        if (!d->owned || !d->owned_free)
            worker_fail(result_fd, "%s does not export perf_lab_rust_decompress_owned and perf_lab_rust_free_output",
                        c->library);
    } else {
        libdeflate_alloc_fn alloc = (libdeflate_alloc_fn)dlsym(library, "libdeflate_alloc_decompressor");
        d->gzip_decompress = (libdeflate_gzip_fn)dlsym(library, "libdeflate_gzip_decompress");
        if (!alloc || !d->gzip_decompress)
            worker_fail(result_fd, "%s does not export the libdeflate decompression API", c->library);
        d->decompressor = alloc();
        if (!d->decompressor) worker_fail(result_fd, "libdeflate_alloc_decompressor failed");
    }
}

/* The worker's input and the bytes every decode must produce. */
struct inputs {
    uint8_t *compressed;
    size_t compressed_len;
    const uint8_t *expected;
    size_t expected_len;
};

static struct inputs load_inputs(int result_fd) {
    struct inputs in = {0};
    in.compressed = read_whole_file(compressed_path, &in.compressed_len);
    if (!in.compressed) worker_fail(result_fd, "cannot read %s: %s", compressed_path, strerror(errno));
    int expected_fd = open(expected_path, O_RDONLY | O_NONBLOCK);
    struct stat st;
    if (expected_fd < 0 || fstat(expected_fd, &st) != 0)
        worker_fail(result_fd, "cannot open %s: %s", expected_path, strerror(errno));
    if (!S_ISREG(st.st_mode)) worker_fail(result_fd, "%s is not a regular file", expected_path);
    in.expected_len = (size_t)st.st_size;
    in.expected = in.expected_len
        ? mmap(NULL, in.expected_len, PROT_READ, MAP_PRIVATE, expected_fd, 0) : (const uint8_t *)"";
    if (in.expected == MAP_FAILED) worker_fail(result_fd, "cannot map %s: %s", expected_path, strerror(errno));
    return in;
}

/* The lab's output buffer, with a canary on each side of it. */
struct output {
    uint8_t *out;
    size_t cap;
    uint8_t *canary;
    uint8_t *front_canary;
};

/*
 * Output: a PROT_NONE guard page, a canary, the 64-byte aligned output, a canary after the expected length, then
 * another guard page: a write just outside the buffer on either side is caught by a canary, a far one by a guard
 * page. Every output page is mapped once here, outside timing.
 */
static struct output map_output(size_t expected_len, int result_fd) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t payload = (expected_len + CANARY_BYTES + 63) & ~(size_t)63;
    size_t span = (payload + CANARY_BYTES + page - 1) / page * page;
    uint8_t *base = mmap(NULL, span + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) worker_fail(result_fd, "cannot allocate %zu output bytes", span);
    if (mprotect(base, page, PROT_NONE) != 0 || mprotect(base + page + span, page, PROT_NONE) != 0)
        worker_fail(result_fd, "cannot protect the guard pages");
    struct output o = {.out = base + page + (span - payload), .cap = expected_len};
    o.canary = o.out + expected_len;
    o.front_canary = o.out - CANARY_BYTES;
    memset(o.out, 0, o.cap);
    return o;
}

/*
 * Caps the address space the decoder may add (Linux): a decoder that runs out of memory then fails alone (its
 * allocation fails or it is killed) instead of the machine swapping or the kernel killing another process. A cap
 * that cannot be set fails the worker, naming why, rather than running uncapped.
 */
static void cap_memory(int result_fd) {
#if defined(__linux__)
    if (memory_limit_mb <= 0) return;
    long pages = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (!statm || fscanf(statm, "%ld", &pages) != 1 || pages <= 0)
        worker_fail(result_fd, "cannot cap memory at %ld MiB: /proc/self/statm is unreadable", memory_limit_mb);
    fclose(statm);
    rlim_t limit = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (rlim_t)memory_limit_mb * 1024 * 1024;
    struct rlimit current;
    if (getrlimit(RLIMIT_AS, &current) != 0)
        worker_fail(result_fd, "cannot cap memory at %ld MiB: getrlimit: %s", memory_limit_mb, strerror(errno));
    /* A tighter hard limit set by the caller already caps it; the cap cannot be raised past it. */
    if (current.rlim_max != RLIM_INFINITY && limit > current.rlim_max) limit = current.rlim_max;
    struct rlimit rl = {limit, limit};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        worker_fail(result_fd, "cannot cap memory at %ld MiB: setrlimit: %s", memory_limit_mb, strerror(errno));
#else
    (void)result_fd;
#endif
}

/* The cache-state preparation's own memory: the eviction buffer, the poison generator, a sink for the reads. */
struct cache_state {
    uint8_t *evict;
    uint64_t poison;
    volatile uint64_t sink;
};

/*
 * The timed decode always starts from the same cache state, the one libdeflate's own benchmark program measures
 * in: output pages mapped but not in cache, compressed input in cache. So before each decode: poison one byte per
 * 4 KiB of output (with the complement of the expected byte, so a decoder that skips any page fails verification),
 * reset the canaries, stream through an eviction buffer larger than the last-level cache, then read the input.
 */
static void prepare_cache(struct cache_state *cache, const struct output *o, const struct inputs *in) {
    for (size_t offset = 0; offset < o->cap; offset += POISON_STRIDE) {
        cache->poison ^= cache->poison << 13, cache->poison ^= cache->poison >> 7, cache->poison ^= cache->poison << 17;
        size_t stride = o->cap - offset < POISON_STRIDE ? o->cap - offset : POISON_STRIDE;
        size_t at = offset + (size_t)(cache->poison % stride);
        o->out[at] = (uint8_t)~in->expected[at];
    }
    memset(o->canary, CANARY_VALUE, CANARY_BYTES);
    memset(o->front_canary, CANARY_VALUE, CANARY_BYTES);
    uint64_t sum = 0;
    for (size_t i = 0; i < EVICT_BYTES; i += 64) sum += cache->evict[i];
    for (size_t i = 0; i < in->compressed_len; i += 64) sum += in->compressed[i];
    cache->sink += sum;
}

/* What went wrong with a finished decode's output, checked byte for byte (NULL: it is right). */
static const char *verify_output(const struct decoder *d, const struct output *o, const struct inputs *in,
                                 const struct decode_result *result, char *reason, size_t cap) {
    /* Checked first: an overrun is the most serious fault, whatever else went wrong (the lab's buffer only). */
    for (size_t i = 0; !d->ops->release && i < CANARY_BYTES; i++) {
        if (o->canary[i] != CANARY_VALUE) {
            snprintf(reason, cap, "wrote past the end of its output buffer (canary at +%zu overwritten)", i);
            return reason;
        }
    }
    for (size_t i = 0; !d->ops->release && i < CANARY_BYTES; i++) {
        if (o->front_canary[i] != CANARY_VALUE) {
            snprintf(reason, cap, "wrote before the start of its output buffer (canary at -%zu overwritten)",
                     CANARY_BYTES - i);
            return reason;
        }
    }
    if (result->out_len != in->expected_len) {
        snprintf(reason, cap, "wrong length: produced %zu bytes, expected %zu", result->out_len, in->expected_len);
        return reason;
    }
    const uint8_t *produced = result->produced, *expected = in->expected;
    if (in->expected_len && memcmp(produced, expected, in->expected_len) != 0) {
        size_t at = 0;
        while (at < in->expected_len && produced[at] == expected[at]) at++;
        snprintf(reason, cap, "wrong bytes: first difference at offset %zu (got 0x%02x, expected 0x%02x)", at,
                 produced[at], expected[at]);
        return reason;
    }
    return NULL;
}

/*
 * One timed, verified decode, answered on result_fd: "ok ELAPSED DECODE_CPU OUTSIDE" or "bad ELAPSED REASON".
 * `mark` is the CPU the rest of the worker had used when its last call ended (see others_cpu_ns).
 */
static void decode_and_verify(struct decoder *d, const struct output *o, const struct inputs *in, uint64_t *mark,
                              int result_fd) {
    char reason[256];
    struct decode_result result = {.produced = o->out};
    uint64_t main_before = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t others_before = others_cpu_ns(main_before);
    uint64_t outside = others_before > *mark ? others_before - *mark : 0;
    uint64_t cpu_before = clock_ns(CLOCK_PROCESS_CPUTIME_ID) + children_cpu_ns();
    uint64_t start = now_ns();
    const char *failure = d->ops->decode(d, o->out, o->cap, &result, reason, sizeof reason);
    uint64_t elapsed = (result.ended_ns ? result.ended_ns : now_ns()) - start;
    uint64_t cpu_after = clock_ns(CLOCK_PROCESS_CPUTIME_ID) + children_cpu_ns();
    uint64_t decode_cpu = cpu_after > cpu_before ? cpu_after - cpu_before : 0;
    *mark = others_cpu_ns(clock_ns(CLOCK_THREAD_CPUTIME_ID));
    if (!failure) failure = verify_output(d, o, in, &result, reason, sizeof reason);
    /* Freed after timing and verification (outside the measured time, like the lab buffer's reuse). */
    if (d->ops->release) d->ops->release(d, &result);
    if (failure) reply(result_fd, "bad %llu %s", (unsigned long long)elapsed, failure);
    else
        reply(result_fd, "ok %llu %llu %llu", (unsigned long long)elapsed, (unsigned long long)decode_cpu,
              (unsigned long long)outside);
}

static void worker_main(struct contender *c, int command_fd, int result_fd) {
    struct inputs in = load_inputs(result_fd);
    struct output o = map_output(in.expected_len, result_fd);
    struct decoder d = {.input = in.compressed, .in_len = in.compressed_len};
    bind_decoder(&d, c, result_fd);
    cap_memory(result_fd);
    reply(result_fd, "ready");

    struct cache_state cache = {.evict = malloc(EVICT_BYTES), .poison = 0x9E3779B97F4A7C15ull};
    if (!cache.evict) worker_fail(result_fd, "cannot allocate the cache-eviction buffer");
    memset(cache.evict, 1, EVICT_BYTES);

    /* CPU outside the decode calls: what the rest of the worker used since `mark` (see others_cpu_ns). */
    uint64_t mark = others_cpu_ns(clock_ns(CLOCK_THREAD_CPUTIME_ID));
    for (;;) {
        char command;
        ssize_t r = read(command_fd, &command, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0 || command == 'Q') _exit(0);
        if (command == 'S') {
            /* The round's end: what it left behind goes, and the CPU outside its call since then is reported. */
            kill_leftovers();
            uint64_t now_others = others_cpu_ns(clock_ns(CLOCK_THREAD_CPUTIME_ID));
            reply(result_fd, "swept %llu", (unsigned long long)(now_others > mark ? now_others - mark : 0));
            mark = now_others;
            continue;
        }
        prepare_cache(&cache, &o, &in);
        decode_and_verify(&d, &o, &in, &mark, result_fd);
    }
}

/* ---- parent ---------------------------------------------------------------- */

/* Reads one line from fd within timeout; returns 1 on a line, 0 on EOF, -1 on timeout. */
static int read_line(int fd, char *line, size_t cap, long timeout) {
    size_t n = 0;
    uint64_t deadline = now_ns() + (uint64_t)timeout * 1000000ull;
    while (n + 1 < cap) {
        uint64_t now = now_ns();
        if (now >= deadline) return -1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int ready = poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) return -1;
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        if (ch == '\n') break;
        line[n++] = ch;
    }
    line[n] = '\0';
    return 1;
}

static void report_failure(struct contender *c, long round, const char *reason) {
    c->failed = 1;
    printf("{\"type\":\"failure\",\"contender\":");
    json_string(stdout, c->name);
    printf(",\"round\":%ld,\"reason\":", round);
    json_string(stdout, reason);
    printf("}\n");
    fflush(stdout);
}

/* CPU a contender's worker used outside its decode call, as the worker measured it (see worker_main). */
static void report_outside(struct contender *c, long round, unsigned long long outside_ns) {
    c->outside_round_ns += outside_ns;
    printf("{\"type\":\"outside\",\"contender\":");
    json_string(stdout, c->name);
    printf(",\"round\":%ld,\"cpuNs\":%llu}\n", round, outside_ns);
}

/*
 * Kills every process reparented to the harness (Linux, as child subreaper) other than the live workers: what a
 * decoder left running after its worker or command ended. Repeats until none is left (they may have children).
 */
static void sweep_orphans(void) {
#if defined(__linux__)
    for (int pass = 0; pass < 50; pass++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
        FILE *list = fopen(path, "r");
        if (!list) return;
        int killed = 0;
        long child;
        while (fscanf(list, "%ld", &child) == 1) {
            int worker = 0;
            for (int i = 0; i < contender_count; i++) worker |= contenders[i].pid == (pid_t)child;
            if (worker) continue;
            kill(-(pid_t)child, SIGKILL);
            kill((pid_t)child, SIGKILL);
            killed++;
        }
        fclose(list);
        while (waitpid(-1, NULL, WNOHANG) > 0) {}
        if (!killed) return;
        usleep(1000);
    }
#endif
}

static volatile sig_atomic_t stopping = 0;

/* SIGTERM/SIGINT/SIGHUP: kill every worker's process group (they run in their own), then go. */
static void on_stop_signal(int signo) {
    if (stopping) return;
    stopping = 1;
    for (int i = 0; i < contender_count; i++) {
        if (contenders[i].pid > 0) kill(-contenders[i].pid, SIGKILL), kill(contenders[i].pid, SIGKILL);
    }
    signal(signo, SIG_DFL);
    raise(signo);
}

/* Ends a worker (and any command it started) and describes how it ended. */
static void end_worker(struct contender *c, int kill_it, char *how, size_t cap) {
    if (c->pid <= 0) return;
    if (kill_it) kill(-c->pid, SIGKILL), kill(c->pid, SIGKILL);
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {}
    if (how) {
        if (WIFSIGNALED(status))
            snprintf(how, cap, "crashed: killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
            snprintf(how, cap, "worker exited with status %d", WEXITSTATUS(status));
    }
    close(c->command_fd);
    close(c->result_fd);
    c->pid = -1;
    sweep_orphans();
}

static void start_worker(struct contender *c) {
    int to_worker[2], from_worker[2];
    if (pipe(to_worker) != 0 || pipe(from_worker) != 0) fatal("cannot create pipes: %s", strerror(errno));
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) fatal("cannot fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
#if defined(__linux__)
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the harness, however the harness ends */
        if (getppid() == 1) _exit(1);
#endif
        close(to_worker[1]);
        close(from_worker[0]);
        /* Not the other workers' pipes: what this decoder starts must not keep them open. */
        for (int i = 0; i < contender_count; i++) {
            if (&contenders[i] != c && contenders[i].pid > 0)
                close(contenders[i].command_fd), close(contenders[i].result_fd);
        }
#if defined(__linux__)
        /* Its own CPUs (inherited by every thread and process it starts); what it leaves stays in its tree. */
        if (c->cpu_count > 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            for (int i = 0; i < c->cpu_count; i++) CPU_SET(c->cpus[i], &set);
            if (sched_setaffinity(0, sizeof set, &set) != 0) {
                reply(from_worker[1], "error cannot run on CPU %d (and the rest of its set): %s", c->cpus[0],
                      strerror(errno));
                _exit(1);
            }
        }
        prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
        int null_fd = open("/dev/null", O_WRONLY);
        /* stdout belongs to the parent's JSON stream; neither it nor stderr may be held by what the decoder starts. */
        if (null_fd >= 0) dup2(null_fd, STDOUT_FILENO), dup2(null_fd, STDERR_FILENO);
        worker_main(c, to_worker[0], from_worker[1]);
        _exit(0);
    }
    setpgid(pid, pid);
    close(to_worker[0]);
    close(from_worker[1]);
    c->pid = pid;
    c->command_fd = to_worker[1];
    c->result_fd = from_worker[0];
}

/*
 * Where the contenders run. With "cpus" lines (lab/bench/placement.ts chose them from each decoder's threads) each
 * worker pins itself to its set in start_worker, and this only says where. Without them, every contender goes on
 * the same core: only one process decodes at a time, so they never compete; without pinning, each worker tends to
 * stay on the core it last ran on, and on a shared VM two cores can differ by 10% or more for the whole run
 * (measured here in A/A runs). Linux: pin to the parent's current CPU (inherited by the workers). macOS cannot pin;
 * the highest QoS class keeps the workers on performance cores.
 */
static void place_processes(void) {
#if defined(__APPLE__)
    pthread_set_qos_class_self_np(QOS_CLASS_USER_INTERACTIVE, 0);
    printf("{\"type\":\"placement\",\"pinnedCpu\":null,"
           "\"detail\":\"QOS_CLASS_USER_INTERACTIVE (macOS cannot pin to a core)\"}\n");
#else
    if (!pin_cpu) {
        printf("{\"type\":\"placement\",\"pinnedCpu\":null,\"detail\":\"not pinned (pin-cpu no)\"}\n");
        return;
    }
    if (contenders[0].cpu_count > 0) {
        /* Each worker pins itself to its own set (start_worker); say where. */
        for (int i = 0; i < contender_count; i++) {
            printf("{\"type\":\"placement\",\"contender\":");
            json_string(stdout, contenders[i].name);
            printf(",\"cpus\":[");
            for (int k = 0; k < contenders[i].cpu_count; k++) printf("%s%d", k ? "," : "", contenders[i].cpus[k]);
            printf("],\"pinnedCpu\":null,\"detail\":\"sched_setaffinity\"}\n");
        }
        return;
    }
    int cpu = sched_getcpu();
    cpu_set_t set;
    CPU_ZERO(&set);
    if (cpu >= 0) CPU_SET(cpu, &set);
    if (cpu < 0 || sched_setaffinity(0, sizeof set, &set) != 0) {
        printf("{\"type\":\"placement\",\"pinnedCpu\":null,\"detail\":");
        json_string(stdout, strerror(errno));
        printf("}\n");
        return;
    }
    printf("{\"type\":\"placement\",\"pinnedCpu\":%d,\"detail\":\"sched_setaffinity\"}\n", cpu);
#endif
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SPEC_FILE\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_stop_signal);
    signal(SIGINT, on_stop_signal);
    signal(SIGHUP, on_stop_signal);
#if defined(__linux__)
    prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
    read_spec(argv[1]);
    place_processes();
    char line[1024], how[512];
    for (int i = 0; i < contender_count; i++) {
        struct contender *c = &contenders[i];
        start_worker(c);
        int got = read_line(c->result_fd, line, sizeof line, timeout_ms);
        if (got == 1 && strcmp(line, "ready") == 0) {
            printf("{\"type\":\"ready\",\"contender\":");
            json_string(stdout, c->name);
            printf("}\n");
            continue;
        }
        if (got == 1 && strncmp(line, "error ", 6) == 0) {
            end_worker(c, 1, NULL, 0);
            report_failure(c, -1, line + 6);
        } else if (got == 0) {
            end_worker(c, 0, how, sizeof how);
            report_failure(c, -1, how);
        } else {
            end_worker(c, 1, NULL, 0);
            report_failure(c, -1, "timeout: worker did not become ready");
        }
    }
    fflush(stdout);

    uint64_t started = now_ns();
    long total = warmup + rounds, completed = 0;
    for (long round = 0; round < total; round++) {
        if (max_seconds > 0 && round > warmup && (double)(now_ns() - started) / 1e9 > max_seconds) break;
        for (int k = 0; k < contender_count; k++) {
            struct contender *c = &contenders[(round + k) % contender_count];
            if (c->failed) continue;
            if (write(c->command_fd, "D", 1) != 1) {
                end_worker(c, 0, how, sizeof how);
                report_failure(c, round, how);
                continue;
            }
            int got = read_line(c->result_fd, line, sizeof line, timeout_ms);
            if (got == -1) {
                end_worker(c, 1, NULL, 0);
                snprintf(how, sizeof how, "timeout: no result within %ld ms (hung or far too slow)", timeout_ms);
                report_failure(c, round, how);
            } else if (got == 0) {
                end_worker(c, 0, how, sizeof how);
                report_failure(c, round, how);
            } else if (strncmp(line, "ok ", 3) == 0) {
                unsigned long long ns = 0, cpu = 0, outside = 0;
                sscanf(line + 3, "%llu %llu %llu", &ns, &cpu, &outside);
                printf("{\"type\":\"sample\",\"contender\":");
                json_string(stdout, c->name);
                printf(",\"round\":%ld,\"warmup\":%s,\"ns\":%llu,\"cpuNs\":%llu}\n", round,
                       round < warmup ? "true" : "false", ns, cpu);
                report_outside(c, round, outside);
            } else if (strncmp(line, "bad ", 4) == 0) {
                char *reason = strchr(line + 4, ' ');
                end_worker(c, 1, NULL, 0);
                report_failure(c, round, reason ? reason + 1 : "unknown failure");
            } else {
                end_worker(c, 1, NULL, 0);
                report_failure(c, round, "worker sent an unreadable reply");
            }
        }
        /* The round's end: every worker kills what it left running and says what it used outside its call. */
        for (int i = 0; i < contender_count; i++) {
            struct contender *c = &contenders[i];
            if (c->failed || c->pid <= 0) continue;
            int got = write(c->command_fd, "S", 1) == 1 ? read_line(c->result_fd, line, sizeof line, timeout_ms) : 0;
            unsigned long long outside = 0;
            if (got == 1 && sscanf(line, "swept %llu", &outside) == 1) report_outside(c, round, outside);
            if (got != 1 || c->outside_round_ns > (uint64_t)outside_allowance_ms * 1000000ull) {
                /* Over the allowance (or no answer): a fresh worker, so none of it runs into the next round. */
                end_worker(c, 1, NULL, 0);
                start_worker(c);
                int ready = read_line(c->result_fd, line, sizeof line, timeout_ms);
                if (ready != 1 || strcmp(line, "ready") != 0) {
                    end_worker(c, 1, NULL, 0);
                    report_failure(c, round, "its worker could not be restarted after it used CPU outside its turn");
                }
            }
            c->outside_round_ns = 0;
        }
        fflush(stdout);
        if (round >= warmup) completed++;
        sweep_orphans(); /* nothing a decoder left behind runs during the next round */
    }
    int any_failed = 0;
    for (int i = 0; i < contender_count; i++) {
        struct contender *c = &contenders[i];
        if (c->failed) any_failed = 1;
        if (c->pid > 0) {
            if (write(c->command_fd, "Q", 1) != 1) {}
            end_worker(c, 0, NULL, 0);
        }
    }
    sweep_orphans();
    printf("{\"type\":\"done\",\"rounds\":%ld}\n", completed);
    fflush(stdout);
    return any_failed ? 3 : 0;
}
