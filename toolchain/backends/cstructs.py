"""The parameter structs of the C runtime, field by field (runtime_c/include/fitml/): the ABI
cruntime.py fills through ctypes and the tests check against the headers and every `lower_c`."""
from __future__ import annotations

from ..lowering.ccall import MAX_DIMS

_DIMS = [("n", "int32_t"), ("h", "int32_t"), ("w", "int32_t"), ("c", "int32_t")]
_I32 = "int32_t"
_REQ = [("requant", "fitml_requant")]
_ACT_I = [("act_min", _I32), ("act_max", _I32)]
_ACT_F = [("act_min", "float"), ("act_max", "float")]
_ND = f"int32_t[{MAX_DIMS}]"
_FAST = [("fast_requant", "const int32_t *")]     # DSP-only extras (portable ignores them)
_DSP_W = [("filter_dsp", "const int16_t *")]
_B3 = "int32_t[3]"                 # BATCH_MATMUL: three batch dims (rank <= 5)

STRUCTS: dict[str, list[tuple[str, str]]] = {
    "fitml_dims": _DIMS,
    "fitml_conv_geom": [("input", "fitml_dims"), ("filter", "fitml_dims"),
                        ("output", "fitml_dims"), ("stride_h", _I32), ("stride_w", _I32),
                        ("dilation_h", _I32), ("dilation_w", _I32), ("pad_h", _I32),
                        ("pad_w", _I32)],
    "fitml_requant": [("multiplier", "const int32_t *"), ("shift", "const int32_t *"),
                      ("per_channel", _I32)],
    "fitml_conv_s8_params": [("geom", "fitml_conv_geom"), ("filter", "const int8_t *"),
                             ("bias", "const int32_t *")] + _REQ
    + [("input_zp", _I32), ("output_zp", _I32)] + _ACT_I + _FAST + _DSP_W,
    "fitml_depthwise_conv_s8_params": [("geom", "fitml_conv_geom"), ("depth_multiplier", _I32),
                                       ("filter", "const int8_t *"),
                                       ("bias", "const int32_t *")] + _REQ
    + [("input_zp", _I32), ("output_zp", _I32)] + _ACT_I + _DSP_W,
    "fitml_conv_f32_params": [("geom", "fitml_conv_geom"), ("filter", "const float *"),
                              ("bias", "const float *")] + _ACT_F,
    "fitml_depthwise_conv_f32_params": [("geom", "fitml_conv_geom"), ("depth_multiplier", _I32),
                                        ("filter", "const float *"),
                                        ("bias", "const float *")] + _ACT_F,
    "fitml_fully_connected_s8_params": [("batches", _I32), ("input_size", _I32),
                                        ("output_size", _I32), ("filter", "const int8_t *"),
                                        ("bias", "const int32_t *")] + _REQ
    + [("output_zp", _I32)] + _ACT_I + _DSP_W,
    "fitml_fully_connected_f32_params": [("batches", _I32), ("input_size", _I32),
                                         ("output_size", _I32), ("filter", "const float *"),
                                         ("bias", "const float *")] + _ACT_F,
    "fitml_pool_geom": [("input", "fitml_dims"), ("output", "fitml_dims"), ("filter_h", _I32),
                        ("filter_w", _I32), ("stride_h", _I32), ("stride_w", _I32),
                        ("pad_h", _I32), ("pad_w", _I32)],
    "fitml_pool_s8_params": [("geom", "fitml_pool_geom")] + _ACT_I,
    "fitml_pool_f32_params": [("geom", "fitml_pool_geom")] + _ACT_F,
    "fitml_broadcast": [("rank", _I32), ("dims", _ND), ("strides1", _ND), ("strides2", _ND)],
    "fitml_add_s8_params": [("bc", "fitml_broadcast"), ("input1_zp", _I32),
                            ("input2_zp", _I32), ("output_zp", _I32), ("left_shift", _I32),
                            ("input1_multiplier", _I32), ("input1_shift", _I32),
                            ("input2_multiplier", _I32), ("input2_shift", _I32),
                            ("output_multiplier", _I32), ("output_shift", _I32)] + _ACT_I
    + [("lut", "const int32_t *")],
    "fitml_mul_s8_params": [("bc", "fitml_broadcast"), ("input1_zp", _I32),
                            ("input2_zp", _I32), ("output_zp", _I32),
                            ("output_multiplier", _I32), ("output_shift", _I32)] + _ACT_I,
    "fitml_batch_matmul_geom": [("batch_dims", _B3), ("lhs_batch_strides", _B3),
                                ("rhs_batch_strides", _B3), ("rows", _I32),
                                ("cols", _I32), ("depth", _I32), ("lhs_row_stride", _I32),
                                ("lhs_depth_stride", _I32), ("rhs_depth_stride", _I32),
                                ("rhs_col_stride", _I32)],
    "fitml_batch_matmul_f32_params": [("geom", "fitml_batch_matmul_geom")],
    "fitml_batch_matmul_q_params": [("geom", "fitml_batch_matmul_geom"), ("lhs_zp", _I32),
                                    ("rhs_zp", _I32), ("output_zp", _I32),
                                    ("output_multiplier", _I32), ("output_shift", _I32)],
    "fitml_binary_f32_params": [("bc", "fitml_broadcast")] + _ACT_F,
    "fitml_broadcast_params": [("bc", "fitml_broadcast")],
    "fitml_compare_params": [("bc", "fitml_broadcast"), ("op", _I32)] + [
        (f"input{k}_{f}", _I32) for k in (1, 2) for f in ("offset", "multiplier", "shift")],
    "fitml_logical_params": [("bc", "fitml_broadcast"), ("op", _I32)],
    "fitml_lut_s8_params": [("size", _I32), ("lut", "const int8_t *")],
    "fitml_cast_params": [("size", _I32), ("input_type", _I32), ("output_type", _I32)],
    "fitml_zeros_params": [("bytes", _I32)],
    "fitml_select_params": [("rank", _I32), ("dims", _ND), ("strides_cond", _ND),
                            ("strides_x", _ND), ("strides_y", _ND), ("elem_size", _I32)],
    "fitml_softmax_s8_params": [("rows", _I32), ("depth", _I32), ("input_multiplier", _I32),
                                ("input_left_shift", _I32), ("diff_min", _I32)],
    "fitml_softmax_f32_params": [("rows", _I32), ("depth", _I32), ("beta", "float")],
    "fitml_log_softmax_s8_params": [("rows", _I32), ("depth", _I32),
                                    ("input_multiplier", _I32), ("input_left_shift", _I32),
                                    ("reverse_multiplier", _I32), ("reverse_shift", _I32),
                                    ("diff_min", _I32)],
    "fitml_logistic_s8_params": [("size", _I32), ("input_zp", _I32),
                                 ("input_multiplier", _I32), ("input_shift", _I32),
                                 ("input_range_radius", _I32)],
    "fitml_size_params": [("size", _I32)],
    "fitml_hard_swish_s8_params": [("size", _I32), ("input_zp", _I32), ("output_zp", _I32),
                                   ("output_multiplier", _I32), ("output_shift", _I32),
                                   ("reluish_multiplier", _I32), ("reluish_shift", _I32)],
    "fitml_leaky_relu_s8_params": [("size", _I32), ("input_zp", _I32), ("output_zp", _I32),
                                   ("identity_multiplier", _I32), ("identity_shift", _I32),
                                   ("alpha_multiplier", _I32), ("alpha_shift", _I32)],
    "fitml_prelu_s8_params": [("bc", "fitml_broadcast")] + [
        (f, _I32) for f in ("input_offset", "alpha_offset", "output_offset", "multiplier_1",
                            "shift_1", "multiplier_2", "shift_2")],
    "fitml_leaky_relu_f32_params": [("size", _I32), ("alpha", "float")],
    "fitml_affine_params": [("size", _I32), ("scale", "float"), ("zero_point", _I32)],
    "fitml_requantize_s8_params": [("size", _I32), ("input_zp", _I32), ("output_zp", _I32),
                                   ("multiplier", _I32), ("shift", _I32)] + _ACT_I,
    "fitml_clamp_s8_params": [("size", _I32)] + _ACT_I,
    "fitml_clamp_f32_params": [("size", _I32)] + _ACT_F,
    "fitml_walk": [("rank", _I32), ("dims", _ND), ("strides", _ND)],
    "fitml_mean_s8_params": [("outer", "fitml_walk"), ("inner", "fitml_walk"),
                             ("count", _I32), ("input_zp", _I32), ("output_zp", _I32),
                             ("multiplier", _I32), ("shift", _I32)],
    "fitml_mean_f32_params": [("outer", "fitml_walk"), ("inner", "fitml_walk"),
                              ("count", _I32)],
    "fitml_pad_params": [("rank", _I32), ("in_dims", _ND), ("out_dims", _ND),
                         ("pad_before", _ND), ("elem_size", _I32), ("pad_value", "uint8_t[8]")],
    "fitml_add_n_params": [("size", _I32), ("num_inputs", _I32)],
    "fitml_add_n_s8_params": [(f, _I32) for f in (
        "size", "num_inputs", "input_zp", "output_zp", "input_multiplier", "input_shift",
        "output_multiplier", "output_shift")],
    "fitml_l2_normalization_params": [("outer", _I32), ("depth", _I32), ("input_zp", _I32)],
    "fitml_mirror_pad_params": [("rank", _I32), ("in_dims", _ND), ("pad_before", _ND),
                                ("pad_after", _ND), ("offset", _I32), ("elem_size", _I32)],
    "fitml_space_batch_params": [(n, _I32) for n in (
        "in_batch", "in_height", "in_width", "out_batch", "out_height", "out_width",
        "block_height", "block_width", "pad_top", "pad_left", "depth_bytes", "pad_byte")],
    "fitml_concat_params": [("num_inputs", _I32), ("outer", _I32),
                            ("chunk_bytes", "const int32_t *")],
    "fitml_split_params": [("num_outputs", _I32), ("outer", _I32),
                           ("chunk_bytes", "const int32_t *")],
    "fitml_gather_axis_params": [(f, _I32) for f in ("batch", "outer", "coord_size",
                                                     "axis_size", "inner_bytes")],
    "fitml_gather_nd_params": [("slices", _I32), ("depth", _I32), ("slice_bytes", _I32),
                               ("dims", "const int32_t *"), ("strides", "const int32_t *")],
    "fitml_embedding_lookup_params": [("lookups", _I32), ("rows", _I32), ("columns", _I32),
                                      ("elem_size", _I32), ("scale", "float")],
    "fitml_cumsum_params": [(f, _I32) for f in ("outer", "depth", "inner", "exclusive",
                                                "reverse")],
    "fitml_cumsum_s8_params": [("geom", "fitml_cumsum_params")] + [
        (f, _I32) for f in ("input_offset", "output_offset", "input_multiplier", "input_shift",
                            "output_multiplier", "output_shift")],
    "fitml_arg_max_params": [("outer", _I32), ("axis_size", _I32), ("inner", _I32)],
    "fitml_resize_nearest_params": [("batches", _I32), ("in_h", _I32), ("in_w", _I32),
                                    ("out_h", _I32), ("out_w", _I32), ("pixel_bytes", _I32),
                                    ("rows", "const int32_t *"), ("cols", "const int32_t *")],
    "fitml_resize_geom": [(f, _I32) for f in ("batches", "in_h", "in_w", "depth", "out_h",
                                              "out_w")]
    + [(f, "const int32_t *") for f in ("y0", "y1", "x0", "x1")],
    "fitml_resize_bilinear_s8_params": [("geom", "fitml_resize_geom"), ("dy", "const int32_t *"),
                                        ("dx", "const int32_t *")],
    "fitml_resize_bilinear_f32_params": [("geom", "fitml_resize_geom"), ("dy", "const float *"),
                                         ("dx", "const float *")],
    "fitml_gather_params": [("walk", "fitml_walk"), ("offset", _I32), ("elem_size", _I32)],
    "fitml_conv_hybrid_f32_params": [("geom", "fitml_conv_geom"), ("filter", "const int8_t *"),
                                     ("scales", "const float *"), ("bias", "const float *"),
                                     ("per_channel", _I32)] + _ACT_F,
    "fitml_depthwise_conv_hybrid_f32_params": [("geom", "fitml_conv_geom"),
                                               ("depth_multiplier", _I32),
                                               ("filter", "const int8_t *"),
                                               ("scales", "const float *"),
                                               ("bias", "const float *")] + _ACT_F,
    "fitml_fully_connected_hybrid_f32_params": [("batches", _I32), ("input_size", _I32),
                                                ("output_size", _I32),
                                                ("filter", "const int8_t *"),
                                                ("scales", "const float *"),
                                                ("bias", "const float *"), ("per_channel", _I32),
                                                ("asymmetric", _I32)] + _ACT_F,
}
# int8 activations x packed int4 weights (fitml_int4.h): the int8 structs with a uint8 filter
_S4_OUT = [("bias", "const int32_t *")] + _REQ
STRUCTS.update({
    "fitml_conv_s8s4_params": [("geom", "fitml_conv_geom"), ("filter", "const uint8_t *")]
    + _S4_OUT + [("input_zp", _I32), ("output_zp", _I32)] + _ACT_I,
    "fitml_depthwise_conv_s8s4_params": [("geom", "fitml_conv_geom"), ("depth_multiplier", _I32),
                                         ("filter", "const uint8_t *")]
    + _S4_OUT + [("input_zp", _I32), ("output_zp", _I32)] + _ACT_I,
    "fitml_fully_connected_s8s4_params": [("batches", _I32), ("input_size", _I32),
                                          ("output_size", _I32), ("filter", "const uint8_t *")]
    + _S4_OUT + [("output_zp", _I32)] + _ACT_I,
})
# int16 activations x int8 weights (fitml_int16.h): int64 bias, no zero points
_S16_OUT = [("bias", "const int64_t *")] + _REQ + [("acc32", _I32)] + _ACT_I
STRUCTS.update({
    "fitml_conv_s16_params": [("geom", "fitml_conv_geom"), ("filter", "const int8_t *")]
    + _S16_OUT,
    "fitml_depthwise_conv_s16_params": [("geom", "fitml_conv_geom"), ("depth_multiplier", _I32),
                                        ("filter", "const int8_t *")] + _S16_OUT,
    "fitml_fully_connected_s16_params": [("batches", _I32), ("input_size", _I32),
                                         ("output_size", _I32), ("filter", "const int8_t *")]
    + _S16_OUT,
})
# int16 LOGISTIC / TANH / SOFTMAX (fitml_int16.h): constant tables from ops/int16_nonlinear.py
# and ops/int16_softmax.py
STRUCTS.update({
    "fitml_logistic_s16_params": [("size", _I32), ("input_multiplier", _I32),
                                  ("input_left_shift", _I32), ("table", "const int16_t *")],
    "fitml_softmax_s16_params": [("rows", _I32), ("depth", _I32), ("input_multiplier", _I32),
                                 ("input_left_shift", _I32), ("exp_lut", "const int16_t *"),
                                 ("recip_lut", "const int16_t *")],
})
# TRANSPOSE_CONV (fitml_transpose_conv.h, ops/transpose_conv.py)
_TCONV = [("geom", "fitml_conv_geom")]
STRUCTS.update({
    "fitml_transpose_conv_f32_params": _TCONV + [("filter", "const float *"),
                                                 ("bias", "const float *")] + _ACT_F,
    "fitml_transpose_conv_s8_params": _TCONV + [("filter", "const int8_t *"),
                                                ("bias", "const int32_t *")] + _REQ
    + [("input_zp", _I32), ("output_zp", _I32)] + _ACT_I,
    "fitml_transpose_conv_s16_params": _TCONV + [("filter", "const int8_t *"),
                                                 ("bias", "const int64_t *")] + _REQ + _ACT_I,
})
# CONV_2D fused with its residual ADD (fitml_conv.h, backends/c.py fuse_residual_adds)
STRUCTS["fitml_conv_add_s8_params"] = [("conv", "fitml_conv_s8_params"),
                                       ("add", "fitml_add_s8_params"), ("residual_first", _I32)]
# UNIDIRECTIONAL_SEQUENCE_LSTM (fitml_lstm.h, ops/lstm_lowering.py): the states persistent
_LSTM = [("batches", _I32), ("time_steps", _I32), ("input_size", _I32), ("units", _I32),
         ("time_major", _I32)]
STRUCTS["fitml_lstm_s8_params"] = _LSTM + [
    ("hidden_state", "int8_t *"), ("cell_state", "int16_t *"),
    ("input_weights", "const int8_t *"), ("recurrent_weights", "const int8_t *"),
    ("input_bias", "const int32_t *"), ("recurrent_bias", "const int32_t *"),
    ("input_multiplier", "int32_t[4]"), ("input_shift", "int32_t[4]"),
    ("recurrent_multiplier", "int32_t[4]"), ("recurrent_shift", "int32_t[4]"),
    ("forget_multiplier", _I32), ("forget_shift", _I32), ("update_multiplier", _I32),
    ("update_shift", _I32), ("hidden_multiplier", _I32), ("hidden_shift", _I32),
    ("hidden_zp", _I32), ("cell_clip", _I32), ("cell_tanh_multiplier", _I32),
    ("cell_tanh_shift", _I32), ("dsp_fast", _I32), ("sigmoid_table", "const int16_t *")] + _DSP_W \
    + [("weights_dsp", "const int8_t *")]
STRUCTS["fitml_lstm_f32_params"] = _LSTM + [
    ("hidden_state", "float *"), ("cell_state", "float *"),
    ("input_weights", "const float *"), ("recurrent_weights", "const float *"),
    ("bias", "const float *"), ("cell_clip", "float")]
# SVDF (fitml_svdf.h, ops/svdf.py): the state is the model's persistent static array
_SVDF = [("batches", _I32), ("input_size", _I32), ("num_filters", _I32), ("memory_size", _I32),
         ("rank", _I32)]
STRUCTS["fitml_svdf_f32_params"] = _SVDF + [
    ("weights_feature", "const float *"), ("weights_time", "const float *"),
    ("bias", "const float *"), ("state", "float *")] + _ACT_F
STRUCTS["fitml_svdf_s8_params"] = _SVDF + [
    ("weights_feature", "const int8_t *"), ("weights_time", "const int16_t *"),
    ("bias", "const int32_t *"), ("state", "int16_t *"), ("input_zp", _I32), ("state_zp", _I32),
    ("output_zp", _I32), ("feature_multiplier", _I32), ("feature_shift", _I32),
    ("output_multiplier", _I32), ("output_shift", _I32)]
ALIASES = {"fitml_tanh_s8_params": "fitml_logistic_s8_params",
           "fitml_transpose_params": "fitml_gather_params",
           "fitml_strided_slice_params": "fitml_gather_params",
           "fitml_reduce_params": "fitml_mean_f32_params"}
