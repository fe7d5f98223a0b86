import CVPX
import RecorderCore

/// One compressed frame as libvpx produced it.
public struct EncodedFrame: Sendable {
    public let bytes: [UInt8]
    /// Presentation time in milliseconds on the encoder's clock.
    public let ptsMs: Int64
    public let isKeyframe: Bool
}

/// libvpx VP8 in realtime mode, tuned for screen content. Owns the codec context; `deinit` destroys it.
final class VP8Encoder {
    let width: Int
    let height: Int
    private let context: UnsafeMutablePointer<vpx_codec_ctx_t>
    /// Resident memory handed back after libvpx zero-filled its worst-case token buffer (see `ZeroPageReclaimer`).
    private(set) var reclaimedBytes = 0

    /// `reclaimZeroPages`: hand back libvpx's zero-filled worst-case buffers (see `ZeroPageReclaimer`); only
    /// safe while no other thread of ours is allocating, i.e. when recording starts.
    init(width: Int, height: Int, settings: RecordingSettings, reclaimZeroPages: Bool) throws {
        self.width = width
        self.height = height
        var config = vpx_codec_enc_cfg_t()
        guard vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &config, 0) == VPX_CODEC_OK else {
            throw EncoderError.configuration("libvpx has no default VP8 configuration")
        }
        config.g_w = UInt32(width)
        config.g_h = UInt32(height)
        config.g_timebase = vpx_rational(num: 1, den: 1000)  // pts in milliseconds
        config.rc_target_bitrate = UInt32(settings.bitrateKbps)
        config.rc_end_usage = VPX_VBR
        // A background recorder keeps to one core, and realtime encoding must not buffer frames.
        config.g_threads = 1
        config.g_lag_in_frames = 0
        // Every change on screen must reach the file: never let rate control drop a frame.
        config.rc_dropframe_thresh = 0
        // We decide where keyframes go (segment starts), not libvpx.
        config.kf_mode = VPX_KF_DISABLED
        config.g_error_resilient = 0
        // Text must stay legible: capping the quantizer (default 63) costs few bits on screen content,
        // because only changed macroblocks are encoded. Measured on the office scene at 300 kbit/s:
        // max Q 63 → SSIM 0.989, 0.59 MB/min; 32 → 0.9955, 0.49 MB/min; 24 → 0.9963, 0.47 MB/min.
        // 28 keeps some headroom for rate control when a large area moves (video, fast scrolling).
        config.rc_max_quantizer = 28

        context = .allocate(capacity: 1)
        context.initialize(to: vpx_codec_ctx_t())
        let mappingsBefore = reclaimZeroPages ? ZeroPageReclaimer.anonymousMappings() : nil
        let status = cvpx_enc_init(context, &config)
        guard status == VPX_CODEC_OK else {
            let detail = String(cString: vpx_codec_err_to_string(status))
            context.deallocate()
            throw EncoderError.configuration("\(detail) for \(width)x\(height) at \(settings.bitrateKbps) kbps")
        }
        if let mappingsBefore {
            reclaimedBytes = ZeroPageReclaimer.reclaim(
                newSince: mappingsBefore,
                tokenBufferSize: ZeroPageReclaimer.tokenBufferSize(width: width, height: height))
        }
        try control(Int32(VP8E_SET_CPUUSED.rawValue), settings.cpuUsed)
        try control(Int32(VP8E_SET_NOISE_SENSITIVITY.rawValue), 0)
        // Screen-content mode favours sharp edges and static areas (text, UI) over camera-like motion.
        try control(Int32(VP8E_SET_SCREEN_CONTENT_MODE.rawValue), 1)
        try control(Int32(VP8E_SET_STATIC_THRESHOLD.rawValue), 1)
    }

    deinit {
        vpx_codec_destroy(context)
        context.deallocate()
    }

    private func control(_ id: Int32, _ value: Int) throws {
        let status = cvpx_control_int(context, id, Int32(value))
        guard status == VPX_CODEC_OK else {
            throw EncoderError.configuration(
                "control \(id)=\(value): \(String(cString: vpx_codec_err_to_string(status)))")
        }
    }

    /// Encodes `picture` shown from `ptsMs` for `durationMs`; `activeFlags` (one byte per macroblock,
    /// nil = all) limits the work to changed areas. A forced keyframe always encodes the whole picture.
    func encode(
        _ picture: I420Picture, ptsMs: Int64, durationMs: Int, forceKeyframe: Bool, activeFlags: [UInt8]?,
        columns: Int, rows: Int
    ) throws -> [EncodedFrame] {
        var flags = activeFlags
        var status: vpx_codec_err_t
        if forceKeyframe || flags == nil {
            var map = vpx_active_map_t(active_map: nil, rows: UInt32(rows), cols: UInt32(columns))
            status = cvpx_set_active_map(context, &map)
        } else {
            status = flags!.withUnsafeMutableBufferPointer { buffer in
                var map = vpx_active_map_t(active_map: buffer.baseAddress, rows: UInt32(rows), cols: UInt32(columns))
                return cvpx_set_active_map(context, &map)
            }
        }
        guard status == VPX_CODEC_OK else {
            throw EncoderError.encode("active map rejected: \(String(cString: vpx_codec_err_to_string(status)))")
        }
        flags = nil

        status = vpx_codec_encode(
            context, picture.image, vpx_codec_pts_t(ptsMs), UInt(max(1, durationMs)),
            forceKeyframe ? cvpx_flag_force_keyframe() : 0, cvpx_deadline_realtime())
        guard status == VPX_CODEC_OK else {
            let detail = vpx_codec_error_detail(context).map { String(cString: $0) } ?? ""
            throw EncoderError.encode("\(String(cString: vpx_codec_err_to_string(status))) \(detail)")
        }

        var frames: [EncodedFrame] = []
        var iterator: vpx_codec_iter_t? = nil
        while let packet = vpx_codec_get_cx_data(context, &iterator) {
            guard packet.pointee.kind == VPX_CODEC_CX_FRAME_PKT else { continue }
            let frame = packet.pointee.data.frame
            let bytes = Array(UnsafeRawBufferPointer(start: frame.buf, count: frame.sz))
            frames.append(
                EncodedFrame(
                    bytes: bytes, ptsMs: Int64(frame.pts), isKeyframe: frame.flags & cvpx_frame_is_key() != 0))
        }
        return frames
    }
}
