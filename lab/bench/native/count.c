/*
 * perf-lab instruction-count driver: one decode of one contender, for valgrind's callgrind to count.
 *
 * Usage: perf-lab-count KIND LIBRARY COMPRESSED EXPECTED
 *   KIND: libdeflate | cabi | rust-slice | owned | libdeflate-alloc (as in harness.c's spec)
 *
 * Loads the contender's library the way the harness does (dlopen, the same exported names), reads the input and the
 * expected output, and decodes once inside perf_lab_count_decode, the only function callgrind counts
 * (--collect-atstart=no --toggle-collect=perf_lab_count_decode): loading, reading and verifying are not counted. The
 * output is verified byte for byte after the call. Prints one JSON line: {"outputBytes":N} on success (exit 0), or
 * {"error":"..."} (exit 1).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*cabi_decompress_fn)(const uint8_t *, size_t, uint8_t *, size_t, size_t *);
typedef int (*owned_decompress_fn)(const uint8_t *, size_t, uint8_t **, size_t *, size_t *);
typedef void (*owned_free_fn)(uint8_t *, size_t, size_t);
typedef void *(*libdeflate_alloc_fn)(void);
typedef int (*libdeflate_gzip_fn)(void *, const void *, size_t, void *, size_t, size_t *);

static void fail(const char *format, const char *detail) {
    char message[1024];
    snprintf(message, sizeof message, format, detail ? detail : "");
    printf("{\"error\":\"");
    for (const unsigned char *p = (const unsigned char *)message; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f) printf("\\u%04x", *p);
        else putchar(*p);
    }
    printf("\"}\n");
    exit(1);
}

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *file = fopen(path, "rb");
    if (!file) fail("cannot open %s", path);
    if (fseek(file, 0, SEEK_END) != 0) fail("cannot seek %s", path);
    long length = ftell(file);
    if (length < 0 || fseek(file, 0, SEEK_SET) != 0) fail("cannot size %s", path);
    uint8_t *data = malloc(length > 0 ? (size_t)length : 1);
    if (!data || fread(data, 1, (size_t)length, file) != (size_t)length) fail("cannot read %s", path);
    fclose(file);
    *size = (size_t)length;
    return data;
}

enum kind { KIND_LIBDEFLATE, KIND_CABI, KIND_OWNED, KIND_LIBDEFLATE_ALLOC };

struct call {
    enum kind kind;
    cabi_decompress_fn cabi;
    owned_decompress_fn owned;
    libdeflate_gzip_fn gzip;
    void *decompressor;
    const uint8_t *input;
    size_t in_len;
    uint8_t *out; /* the lab's buffer; for owned and libdeflate-alloc, the decoder's (set by the call) */
    size_t out_cap;
    size_t out_len;
    size_t produced_cap;
};

/* The counted region: exactly what the harness times (for libdeflate-alloc, its malloc too). Not inlined. */
__attribute__((noinline, used)) int perf_lab_count_decode(struct call *call) {
    switch (call->kind) {
    case KIND_CABI:
        return call->cabi(call->input, call->in_len, call->out, call->out_cap, &call->out_len);
    case KIND_LIBDEFLATE:
        return call->gzip(call->decompressor, call->input, call->in_len, call->out, call->out_cap, &call->out_len);
    case KIND_OWNED:
        call->out = NULL;
        return call->owned(call->input, call->in_len, &call->out, &call->out_len, &call->produced_cap);
    case KIND_LIBDEFLATE_ALLOC:
        call->out = malloc(call->out_cap ? call->out_cap : 1);
        if (!call->out) return -1;
        return call->gzip(call->decompressor, call->input, call->in_len, call->out, call->out_cap, &call->out_len);
    }
    return -1;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s KIND LIBRARY COMPRESSED EXPECTED\n", argv[0]);
        return 2;
    }
    const char *kind = argv[1], *library_path = argv[2];
    struct call call = {0};
    void *library = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
    if (!library) fail("cannot load %s", dlerror());
    owned_free_fn owned_free = NULL;
    if (strcmp(kind, "cabi") == 0 || strcmp(kind, "rust-slice") == 0) {
        const char *symbol = kind[0] == 'c' ? "perf_lab_gzip_decompress" : "perf_lab_rust_decompress_slice";
        call.kind = KIND_CABI;
        call.cabi = (cabi_decompress_fn)dlsym(library, symbol);
        if (!call.cabi) fail("the library does not export %s", symbol);
    } else if (strcmp(kind, "owned") == 0) {
        call.kind = KIND_OWNED;
        call.owned = (owned_decompress_fn)dlsym(library, "perf_lab_rust_decompress_owned");
        owned_free = (owned_free_fn)dlsym(library, "perf_lab_rust_free_output");
        if (!call.owned || !owned_free) fail("the library does not export %s", "perf_lab_rust_decompress_owned");
    } else if (strcmp(kind, "libdeflate") == 0 || strcmp(kind, "libdeflate-alloc") == 0) {
        call.kind = kind[10] == '-' ? KIND_LIBDEFLATE_ALLOC : KIND_LIBDEFLATE;
        libdeflate_alloc_fn alloc = (libdeflate_alloc_fn)dlsym(library, "libdeflate_alloc_decompressor");
        call.gzip = (libdeflate_gzip_fn)dlsym(library, "libdeflate_gzip_decompress");
        if (!alloc || !call.gzip) fail("the library does not export the libdeflate decompression API%s", NULL);
        call.decompressor = alloc();
        if (!call.decompressor) fail("libdeflate_alloc_decompressor failed%s", NULL);
    } else {
        fail("unknown contender kind %s", kind);
    }
    size_t expected_len = 0;
    call.input = read_file(argv[3], &call.in_len);
    const uint8_t *expected = read_file(argv[4], &expected_len);
    call.out_cap = expected_len;
    if (call.kind == KIND_CABI || call.kind == KIND_LIBDEFLATE) {
        call.out = malloc(expected_len ? expected_len : 1);
        if (!call.out) fail("cannot allocate the output%s", NULL);
        memset(call.out, 0, expected_len); /* maps the pages outside the count, as the harness does */
    }
    int rc = perf_lab_count_decode(&call);
    char detail[64];
    snprintf(detail, sizeof detail, "%d", rc);
    if (rc != 0) fail("the decode returned error code %s", detail);
    if (call.out_len != expected_len || (expected_len && (!call.out || memcmp(call.out, expected, expected_len) != 0)))
        fail("the decode's output differs from the expected bytes%s", NULL);
    if (call.kind == KIND_OWNED) owned_free(call.out, call.out_len, call.produced_cap);
    printf("{\"outputBytes\":%zu}\n", call.out_len);
    return 0;
}
