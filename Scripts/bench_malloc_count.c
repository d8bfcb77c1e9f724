// Heap allocation counter for Scripts/bench alloc, loaded with LD_PRELOAD into the process
// measured. Counts calls to malloc, calloc, realloc, reallocarray, posix_memalign,
// aligned_alloc, memalign, valloc and pvalloc (every thread, every library: the Swift runtime,
// Foundation, NIO, libvpx, libopus, OpenSSL, libsrtp) and forwards them to glibc's own
// allocator. free is not counted. A thread writes one line a second to the file named by
// NACHO_MALLOC_COUNT_FILE: "<CLOCK_MONOTONIC seconds> <allocations> <bytes requested>"
// (cumulative), and a last line when the process exits normally.
//
// Built by Scripts/bench into a scratch directory (cc -shared -fPIC -O2 -pthread); never
// committed as a binary.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// glibc's allocator under its internal names: no dlsym, so no allocation while resolving.
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static unsigned long long calls;
static unsigned long long requested;
static int out = -1;

static inline void count(size_t size) {
    __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&requested, size, __ATOMIC_RELAXED);
}

void *malloc(size_t size) { count(size); return __libc_malloc(size); }
void *calloc(size_t count_, size_t size) { count(count_ * size); return __libc_calloc(count_, size); }
void *realloc(void *pointer, size_t size) { count(size); return __libc_realloc(pointer, size); }
void *reallocarray(void *pointer, size_t count_, size_t size) {
    count(count_ * size);
    if (size != 0 && count_ > (size_t)-1 / size) return NULL;
    return __libc_realloc(pointer, count_ * size);
}
void *memalign(size_t alignment, size_t size) { count(size); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(size); return __libc_memalign(alignment, size); }
void *valloc(size_t size) { count(size); return __libc_valloc(size); }
void *pvalloc(size_t size) { count(size); return __libc_pvalloc(size); }
int posix_memalign(void **result, size_t alignment, size_t size) {
    count(size);
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return 22;  // EINVAL
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL && size != 0) return 12;  // ENOMEM
    *result = pointer;
    return 0;
}

static void write_line(void) {
    if (out < 0) return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    char line[96];
    int length = snprintf(line, sizeof line, "%lld.%09ld %llu %llu\n", (long long)now.tv_sec, now.tv_nsec,
                          __atomic_load_n(&calls, __ATOMIC_RELAXED), __atomic_load_n(&requested, __ATOMIC_RELAXED));
    if (length > 0) (void)!write(out, line, (size_t)length);
}

static void *writer(void *unused) {
    (void)unused;
    for (;;) {
        write_line();
        sleep(1);
    }
    return NULL;
}

__attribute__((constructor)) static void start(void) {
    const char *path = getenv("NACHO_MALLOC_COUNT_FILE");
    if (path == NULL || *path == 0) return;
    // Only the process the variable was meant for: not its children.
    unsetenv("NACHO_MALLOC_COUNT_FILE");
    out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) return;
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_create(&thread, &attributes, writer, NULL);
    pthread_attr_destroy(&attributes);
}

__attribute__((destructor)) static void finish(void) { write_line(); }
