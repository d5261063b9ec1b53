/**
 * @file fitml_compiler.h
 * @brief Alignment and section placement for every compiler fitml's C is built with.
 *
 * A definition that must be aligned or placed in a named section is written
 *
 *     FITML_PLACE_BEFORE(16, ".rodata.x") const int8_t w[64] FITML_PLACE_AFTER(16, ".rodata.x") = {...};
 *
 * GCC, Clang, Arm Compiler 6 (armclang), Arm Compiler 5 (armcc) and TI's compilers take GNU
 * attributes after the declarator; IAR takes `#pragma data_alignment` / `#pragma location`
 * before the definition; MSVC (host unit tests) takes `__declspec(align)` before it and has no
 * section placement. Any other compiler stops here: define FITML_ALIGN_BEFORE, FITML_ALIGN_AFTER,
 * FITML_SECTION_BEFORE and FITML_SECTION_AFTER for it (each may be empty) before including.
 */
#ifndef FITML_COMPILER_H
#define FITML_COMPILER_H

#define FITML_PRAGMA(x) _Pragma(#x)

#if defined(FITML_ALIGN_BEFORE) && defined(FITML_ALIGN_AFTER) && \
    defined(FITML_SECTION_BEFORE) && defined(FITML_SECTION_AFTER)
/* given by the build */
#elif defined(__ICCARM__) || defined(__IAR_SYSTEMS_ICC__)
#define FITML_ALIGN_BEFORE(n) FITML_PRAGMA(data_alignment = n)
#define FITML_ALIGN_AFTER(n)
#define FITML_SECTION_BEFORE(s) FITML_PRAGMA(location = s)
#define FITML_SECTION_AFTER(s)
#elif defined(__GNUC__) || defined(__clang__) || defined(__ARMCC_VERSION) || defined(__CC_ARM) \
    || defined(__TI_COMPILER_VERSION__) || defined(__TASKING__)
#define FITML_ALIGN_BEFORE(n)
#define FITML_ALIGN_AFTER(n) __attribute__((aligned(n)))
#define FITML_SECTION_BEFORE(s)
#define FITML_SECTION_AFTER(s) __attribute__((section(s)))
#elif defined(_MSC_VER)
#define FITML_ALIGN_BEFORE(n) __declspec(align(n))
#define FITML_ALIGN_AFTER(n)
#define FITML_SECTION_BEFORE(s)
#define FITML_SECTION_AFTER(s)
#else
#error "fitml_compiler.h: unknown compiler; define FITML_ALIGN_BEFORE/_AFTER and FITML_SECTION_BEFORE/_AFTER"
#endif

/** Both halves of an aligned definition in section `s` (a string literal). */
#define FITML_PLACE_BEFORE(n, s) FITML_ALIGN_BEFORE(n) FITML_SECTION_BEFORE(s)
#define FITML_PLACE_AFTER(n, s) FITML_ALIGN_AFTER(n) FITML_SECTION_AFTER(s)

#endif /* FITML_COMPILER_H */
