/**
 * @file fitml_conv_add_s8.c
 * @brief int8 CONV_2D fused with the residual ADD that consumes it (fitml_conv_direct.h):
 *        output[i] = ADD(residual[i], conv[i]), computed without scratch; output may be
 *        residual itself (the planner lays the sum over the dying residual).
 */
#include "fitml/fitml_conv.h"
#include "fitml_conv_direct.h"

fitml_status fitml_conv_add_s8(const fitml_conv_add_s8_params *p, const int8_t *input,
                               const int8_t *residual, int8_t *output)
{
    if (p == NULL) {
        return FITML_ERR_ARGUMENT;
    }
    return fitml_conv_direct_s8(&p->conv, input, output, &p->add, residual, p->residual_first);
}
