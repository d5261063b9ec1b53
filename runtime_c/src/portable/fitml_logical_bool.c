/**
 * @file fitml_logical_bool.c
 * @brief LOGICAL_AND / LOGICAL_OR with broadcasting on one-byte bools.
 */
#include "fitml/fitml_compare.h"
#include "fitml_broadcast_loop.h"

static inline uint8_t fitml_logical_one(const fitml_logical_params *p, uint8_t a, uint8_t b,
                                        int op)
{
    (void)p;
    return (uint8_t)(op == FITML_LOGICAL_AND ? (a != 0 && b != 0) : (a != 0 || b != 0));
}

FITML_DEFINE_BROADCAST(fitml_logical_loop, fitml_logical_params, uint8_t, fitml_logical_one)

fitml_status fitml_logical_bool(const fitml_logical_params *p, const uint8_t *input1,
                                const uint8_t *input2, uint8_t *output)
{
    if (p != NULL && p->op != FITML_LOGICAL_AND && p->op != FITML_LOGICAL_OR) {
        return FITML_ERR_ARGUMENT;
    }
    return fitml_logical_loop(p, input1, input2, output, p == NULL ? 0 : p->op);
}
