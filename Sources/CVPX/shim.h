#ifndef CVPX_SHIM_H
#define CVPX_SHIM_H

#include <vpx/vpx_encoder.h>
#include <vpx/vp8cx.h>

/// vpx_codec_enc_init is a macro that passes the ABI version; Swift cannot expand it.
static inline vpx_codec_err_t cvpx_enc_init(vpx_codec_ctx_t *ctx, const vpx_codec_enc_cfg_t *cfg) {
    return vpx_codec_enc_init(ctx, vpx_codec_vp8_cx(), cfg, 0);
}

/// vpx_codec_control is variadic and type-checked by macros; these typed wrappers are what Swift calls.
static inline vpx_codec_err_t cvpx_control_int(vpx_codec_ctx_t *ctx, int id, int value) {
    return vpx_codec_control_(ctx, id, value);
}
static inline vpx_codec_err_t cvpx_control_uint(vpx_codec_ctx_t *ctx, int id, unsigned int value) {
    return vpx_codec_control_(ctx, id, value);
}
static inline vpx_codec_err_t cvpx_set_active_map(vpx_codec_ctx_t *ctx, vpx_active_map_t *map) {
    return vpx_codec_control_(ctx, VP8E_SET_ACTIVEMAP, map);
}

/// VPX_DL_REALTIME and VPX_EFLAG_FORCE_KF are macros with casts Swift does not import.
static inline unsigned long cvpx_deadline_realtime(void) { return VPX_DL_REALTIME; }
static inline vpx_enc_frame_flags_t cvpx_flag_force_keyframe(void) { return VPX_EFLAG_FORCE_KF; }
static inline vpx_codec_frame_flags_t cvpx_frame_is_key(void) { return VPX_FRAME_IS_KEY; }

#endif
