/**
 * @file fitml_patch.h
 * @brief Data movement of patch-based stages (PATCHED_STAGE): gathers of a patch's input
 *        window and scatters of its output, between row-pitched buffers.
 *
 * A patch-based stage runs a few layers on one spatial patch at a time (MCUNetV2), so only one
 * patch's intermediate feature maps exist at once. The generated code calls the ordinary
 * kernels on patch-sized buffers with per-patch geometry; this copy moves a box of rows where
 * a kernel cannot read or write in place (its width is also its row pitch).
 */
#ifndef FITML_PATCH_H
#define FITML_PATCH_H

#include "fitml_types.h"

/**
 * @brief Copy @p rows rows of @p row_bytes bytes from @p src (rows @p src_pitch bytes apart)
 *        to @p dst (rows @p dst_pitch bytes apart). The two boxes must not overlap.
 * @param dst       destination of the first row
 * @param dst_pitch bytes from one destination row to the next
 * @param src       source of the first row
 * @param src_pitch bytes from one source row to the next
 * @param rows      number of rows (0 or less copies nothing)
 * @param row_bytes bytes per row
 */
void fitml_patch_copy(void *dst, int32_t dst_pitch, const void *src, int32_t src_pitch,
                      int32_t rows, int32_t row_bytes);

#endif /* FITML_PATCH_H */
