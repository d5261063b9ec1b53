/**
 * @file fitml.h
 * @brief fitml C runtime: include this one header.
 *
 * C99, no dynamic allocation; kernels need only <string.h> (memcpy/memset) and, for some
 * float32 kernels, <math.h>. Every kernel is `fitml_status fitml_<op>_<dtype>(const params *,
 * inputs..., outputs..., [scratch])` with caller-owned scratch sized by
 * `fitml_<op>_<dtype>_scratch_size()`.
 */
#ifndef FITML_H
#define FITML_H

#ifdef __cplusplus
extern "C" {
#endif

#include "fitml_config.h"
#include "fitml_types.h"
#include "fitml_activation.h"
#include "fitml_batch_matmul.h"
#include "fitml_compare.h"
#include "fitml_conv.h"
#include "fitml_data.h"
#include "fitml_elementwise.h"
#include "fitml_fully_connected.h"
#include "fitml_hybrid.h"
#include "fitml_int4.h"
#include "fitml_int16.h"
#include "fitml_lstm.h"
#include "fitml_math.h"
#include "fitml_pool.h"
#include "fitml_quantize.h"
#include "fitml_reduce.h"
#include "fitml_resize.h"
#include "fitml_svdf.h"
#include "fitml_transpose_conv.h"

#ifdef __cplusplus
}
#endif

#endif /* FITML_H */
