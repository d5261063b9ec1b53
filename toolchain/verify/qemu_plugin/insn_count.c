/*
 * fitml insn_count: a QEMU TCG plugin (plugin API version 1, QEMU 4.2 .. 8.x) that counts the
 * guest instructions executed between calls of two marker functions.
 *
 * Args: begin=ADDR, end=ADDR (the marker functions' addresses, Thumb bit ignored) and optional
 * out=PATH. Every translation block adds its instruction count to a running total (an inline
 * add, cheap); the blocks that start at a marker get a callback instead, which snapshots the
 * total. The result is the sum over all begin..end spans, counting the begin marker's block and
 * everything up to (not including) the end marker's block. It is written as one line
 * "insns=N begins=B ends=E split=S" to PATH (or the QEMU log) at every end marker and at exit.
 * split counts marker addresses found inside a block rather than at its start (should be 0).
 *
 * Debian's QEMU ships no qemu-plugin.h, so the few API pieces used are declared here.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t {
    const char *target_name;
    struct { int min; int cur; } version;
    bool system_emulation;
    union { struct { int smp_vcpus; int max_vcpus; } system; };
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
                                          qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb,
                                    void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);

API int qemu_plugin_version = 1;

static uint64_t addr_begin = UINT64_MAX, addr_end = UINT64_MAX;
static const char *out_path;
static uint64_t running;      /* instructions of every block executed so far */
static uint64_t span_start;   /* `running` when the last begin marker ran */
static uint64_t measured;     /* sum over completed begin..end spans */
static uint64_t n_begins, n_ends, n_split;
static bool in_span;

static void report(void)
{
    char line[128];
    snprintf(line, sizeof line, "insns=%" PRIu64 " begins=%" PRIu64 " ends=%" PRIu64
             " split=%" PRIu64 "\n", measured, n_begins, n_ends, n_split);
    if (!out_path) {
        qemu_plugin_outs(line);
        return;
    }
    FILE *f = fopen(out_path, "w");
    if (f) {
        fputs(line, f);
        fclose(f);
    }
}

/* userdata: instruction count of the block << 1 | (1 for the end marker). */
static void on_marker(unsigned int vcpu, void *userdata)
{
    uintptr_t u = (uintptr_t)userdata;
    (void)vcpu;
    if (u & 1) {
        if (in_span) {
            measured += running - span_start;
            n_ends++;
            in_span = false;
            report();
        }
    } else {
        span_start = running;
        in_span = true;
        n_begins++;
    }
    running += u >> 1;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    uint64_t pc = qemu_plugin_tb_vaddr(tb);
    (void)id;
    for (size_t i = 1; i < n; i++) {
        uint64_t a = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i));
        if (a == addr_begin || a == addr_end)
            n_split++;
    }
    if (pc == addr_begin || pc == addr_end) {
        void *u = (void *)(uintptr_t)((n << 1) | (pc == addr_end));
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_marker, QEMU_PLUGIN_CB_NO_REGS, u);
    } else {
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &running, n);
    }
}

static void on_atexit(qemu_plugin_id_t id, void *userdata)
{
    (void)id;
    (void)userdata;
    report();
}

API int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "begin=", 6) == 0) {
            addr_begin = strtoull(a + 6, NULL, 0) & ~(uint64_t)1;
        } else if (strncmp(a, "end=", 4) == 0) {
            addr_end = strtoull(a + 4, NULL, 0) & ~(uint64_t)1;
        } else if (strncmp(a, "out=", 4) == 0) {
            out_path = a + 4;
        } else {
            fprintf(stderr, "insn_count: unknown argument '%s'\n", a);
            return -1;
        }
    }
    if (addr_begin == UINT64_MAX || addr_end == UINT64_MAX) {
        fprintf(stderr, "insn_count: begin=ADDR and end=ADDR are required\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_atexit, NULL);
    return 0;
}
