/**
 * @file fitml_config.h
 * @brief Build-time selection of kernel variants.
 *
 * The portable C kernels under src/portable/ are always correct. Faster variants with the same
 * function names (src/dsp/ for Cortex-M DSP extension, src/mve/ for Helium) are chosen by the
 * build, file by file: toolchain.backends.cruntime.runtime_sources() lists the variant file
 * when it exists and the target has the feature, else the portable one. Defining
 * FITML_PORTABLE_ONLY forces the portable path everywhere, including inside shared headers.
 */
#ifndef FITML_CONFIG_H
#define FITML_CONFIG_H

/* Clang (and Arm Compiler 6, which is Clang) cannot allocate registers for the hand-scheduled
 * inline assembly of the DSP kernels (each memory operand takes a register there), so a Clang
 * build runs the plain C paths of the src/dsp and src/mve sources over the same weight layouts:
 * bit-exact, slower. GCC builds take the assembly and the Helium intrinsics. */
#if !defined(FITML_PORTABLE_ONLY) && defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP \
    && !defined(__clang__)
#define FITML_HAS_DSP 1
#else
#define FITML_HAS_DSP 0
#endif

#if !defined(FITML_PORTABLE_ONLY) && defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) \
    && !defined(__clang__)
#define FITML_HAS_MVE 1
#else
#define FITML_HAS_MVE 0
#endif

/** Largest tensor rank the broadcast, gather, pad and reduce kernels walk. */
#define FITML_MAX_DIMS 6

#endif /* FITML_CONFIG_H */
