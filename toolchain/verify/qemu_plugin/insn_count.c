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
 * Profile builds (`fitml verify --profile`) add op=ADDR, the address of a third marker function
 * the generated code calls before every op and after the last one, and classes=1. Then every
 * call of a marker (begin, op, end) during the first span snapshots the running count and the
 * per-class counts (load/store, multiply/MAC, branch, and the extra registers LDM/STM/PUSH/POP
 * move beyond their first), classified from each instruction's Thumb encoding when a block is
 * translated. The op marker's own block (a NOP and the return) is not counted, so what the
 * markers cost is their call instruction. Each snapshot is written as a line
 * "mark INSNS LS MUL BR REGS" after the first line; differences of consecutive ones give the
 * span of each op.
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
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);

API int qemu_plugin_version = 1;

static uint64_t addr_begin = UINT64_MAX, addr_end = UINT64_MAX, addr_op = UINT64_MAX;
static const char *out_path;
static bool want_classes;
enum { CLS_LS, CLS_MUL, CLS_BR, CLS_REGS, N_CLS };
static uint64_t classes[N_CLS];   /* running per-class counts, like `running` */
#define MAX_MARKS (1u << 22)
static uint64_t (*marks)[1 + N_CLS];  /* snapshots of the first span: running, classes */
static size_t n_marks, cap_marks;
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
        for (size_t i = 0; i < n_marks; i++) {
            fprintf(f, "mark %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                    marks[i][0], marks[i][1 + CLS_LS], marks[i][1 + CLS_MUL],
                    marks[i][1 + CLS_BR], marks[i][1 + CLS_REGS]);
        }
        fclose(f);
    }
}

/* Snapshot the counts at a marker of the first span (profile builds only). */
static void snapshot(void)
{
    if (addr_op == UINT64_MAX || n_begins != 1 || n_marks >= MAX_MARKS)
        return;
    if (n_marks == cap_marks) {
        size_t cap = cap_marks ? 2 * cap_marks : 256;
        void *grown = realloc(marks, cap * sizeof *marks);
        if (!grown)
            return;
        marks = grown;
        cap_marks = cap;
    }
    marks[n_marks][0] = running;
    for (int k = 0; k < N_CLS; k++)
        marks[n_marks][1 + k] = classes[k];
    n_marks++;
}

static unsigned popcount16(unsigned v)
{
    unsigned n = 0;
    for (v &= 0xffffu; v; v &= v - 1)
        n++;
    return n;
}

/* Add one Thumb instruction (2 or 4 bytes, little-endian halfwords) to the class counts c:
 * ARMv7-M / ARMv8-M encodings; floating-point and MVE data processing count as other. */
static void classify(const uint8_t *p, size_t size, uint64_t c[N_CLS])
{
    unsigned h1 = (unsigned)p[0] | (unsigned)p[1] << 8;
    if (size < 4) {
        if ((h1 & 0xF800) == 0x4800 || (h1 & 0xF000) == 0x5000 || (h1 & 0xE000) == 0x6000
            || (h1 & 0xE000) == 0x8000) {
            c[CLS_LS]++;                               /* LDR/STR (literal, reg, imm, SP) */
        } else if ((h1 & 0xF600) == 0xB400) {         /* PUSH / POP (POP {pc}: + refill) */
            unsigned n = popcount16(h1 & 0xFF) + (h1 >> 8 & 1);
            c[CLS_LS]++;
            c[CLS_REGS] += n ? n - 1 : 0;
            if ((h1 & 0xFF00) == 0xBD00)
                c[CLS_BR]++;
        } else if ((h1 & 0xF000) == 0xC000) {         /* LDM / STM */
            unsigned n = popcount16(h1 & 0xFF);
            c[CLS_LS]++;
            c[CLS_REGS] += n ? n - 1 : 0;
        } else if ((h1 & 0xFFC0) == 0x4340) {
            c[CLS_MUL]++;                              /* MULS */
        } else if (((h1 & 0xF000) == 0xD000 && (h1 & 0x0E00) != 0x0E00)
                   || (h1 & 0xF800) == 0xE000 || (h1 & 0xFF00) == 0x4700
                   || (h1 & 0xF500) == 0xB100 || (h1 & 0xFF87) == 0x4687
                   || (h1 & 0xFF87) == 0x4487) {
            c[CLS_BR]++;                /* B<c>, B, BX/BLX, CBZ/CBNZ, MOV pc / ADD pc */
        }
        return;
    }
    unsigned h2 = (unsigned)p[2] | (unsigned)p[3] << 8;
    if ((h1 & 0xFE40) == 0xE800) {                     /* LDM/STM, PUSH.W/POP.W */
        unsigned n = popcount16(h2);
        c[CLS_LS]++;
        c[CLS_REGS] += n ? n - 1 : 0;
        if ((h1 & 0x0010) && (h2 & 0x8000))
            c[CLS_BR]++;                               /* a load of pc */
    } else if ((h1 & 0xFFF0) == 0xE8D0 && (h2 & 0xFFE0) == 0xF000) {
        c[CLS_BR]++;                                   /* TBB / TBH */
    } else if ((h1 & 0xFE40) == 0xE840) {
        c[CLS_LS]++;                                   /* LDRD/STRD, LDREX/STREX */
    } else if (((h1 & 0xFE00) == 0xEC00 || (h1 & 0xFE00) == 0xFC00)
               && (h1 & 0xFFE0) != 0xEC40 && (h1 & 0xFFE0) != 0xFC40) {
        c[CLS_LS]++;                                   /* VLDR/VSTR/VLDM/VPUSH, MVE VLDR */
    } else if ((h1 & 0xF800) == 0xF000 && (h2 & 0x8000)) {
        if ((h2 & 0x5000) != 0 || (h1 & 0x0380) != 0x0380)
            c[CLS_BR]++;                /* B<c>.W, B.W, BL, v8.1-M loops; not MSR/hints */
    } else if ((h1 & 0xFE00) == 0xF800) {
        c[CLS_LS]++;                                   /* LDR/STR byte, half, word; PLD */
    } else if ((h1 & 0xFF00) == 0xFB00) {
        c[CLS_MUL]++;                   /* MUL/MLA/SMLAD/SMULxy, SMULL/SMLAL, SDIV/UDIV */
    }
}

/* The op marker (profile builds): a snapshot; its own block is not counted. */
static void on_op_marker(unsigned int vcpu, void *userdata)
{
    (void)vcpu;
    (void)userdata;
    if (in_span)
        snapshot();
}

/* userdata: instruction count of the block << 1 | (1 for the end marker). */
static void on_marker(unsigned int vcpu, void *userdata)
{
    uintptr_t u = (uintptr_t)userdata;
    (void)vcpu;
    if (u & 1) {
        if (in_span) {
            snapshot();
            measured += running - span_start;
            n_ends++;
            in_span = false;
            report();
        }
    } else {
        span_start = running;
        in_span = true;
        n_begins++;
        snapshot();
    }
    running += u >> 1;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    uint64_t pc = qemu_plugin_tb_vaddr(tb);
    (void)id;
    uint64_t c[N_CLS] = {0};
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t a = qemu_plugin_insn_vaddr(insn);
        if (i > 0 && (a == addr_begin || a == addr_end || a == addr_op))
            n_split++;
        if (want_classes)
            classify(qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn), c);
    }
    if (pc == addr_op) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_op_marker, QEMU_PLUGIN_CB_NO_REGS, NULL);
    } else if (pc == addr_begin || pc == addr_end) {
        void *u = (void *)(uintptr_t)((n << 1) | (pc == addr_end));
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_marker, QEMU_PLUGIN_CB_NO_REGS, u);
    } else {
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &running, n);
        for (int k = 0; k < N_CLS; k++) {
            if (c[k])
                qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
                                                         &classes[k], c[k]);
        }
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
        } else if (strncmp(a, "op=", 3) == 0) {
            addr_op = strtoull(a + 3, NULL, 0) & ~(uint64_t)1;
        } else if (strcmp(a, "classes=1") == 0) {
            want_classes = true;
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
