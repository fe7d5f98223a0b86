import Foundation
import Glibc

/// Gives back to the kernel the pages of libvpx's VP8 token buffer that are still all zero.
///
/// Why: `vp8_alloc_compressor_data` allocates a worst-case token buffer (macroblocks × 384 tokens ×
/// 16 bytes = 50 MB at 1080p) with `vpx_calloc`, which memsets it and so makes every page resident,
/// although a frame of screen content uses a small fraction. Measured with a C program on libvpx 1.12:
/// 55 MB resident right after `vpx_codec_enc_init` at 1920×1080. `MADV_DONTNEED` on a private anonymous
/// mapping turns its pages back into zero-fill-on-demand pages, so the buffer keeps exactly the
/// contents libvpx expects (zeros) and only the pages the encoder later writes come back.
///
/// Safety: it only touches address ranges that became mapped while this thread created the encoder,
/// at least as long as that buffer (far beyond thread stacks and fresh malloc arenas), and within them
/// only pages verified to be all zero. The kernel may merge the new mapping with a neighbour, so new
/// ranges are computed by address, not by mapping identity.
enum ZeroPageReclaimer {
    struct Mapping: Hashable {
        let start: UInt
        let end: UInt
        var length: UInt { end - start }
    }

    /// Private, writable, anonymous mappings of the process (from /proc/self/maps).
    static func anonymousMappings() -> Set<Mapping> {
        guard let file = fopen("/proc/self/maps", "r") else { return [] }
        defer { fclose(file) }
        var mappings = Set<Mapping>()
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let bytes = line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .newlines)
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            // Anonymous mappings have inode 0 and no path: "start-end rw-p 00000000 00:00 0".
            guard fields.count == 5, fields[1] == "rw-p", fields[4].hasPrefix("0") else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16) else {
                continue
            }
            mappings.insert(Mapping(start: start, end: end))
        }
        return mappings
    }

    /// Byte size of libvpx's VP8 token buffer for a `width`×`height` encoder.
    static func tokenBufferSize(width: Int, height: Int) -> UInt {
        let macroblocks = ((width + 15) / 16) * ((height + 15) / 16)
        return UInt(macroblocks * 24 * 16 * 16)
    }

    /// Releases the all-zero pages of address ranges mapped since `before` that are at least
    /// `tokenBufferSize` long; returns the bytes released.
    @discardableResult
    static func reclaim(newSince before: Set<Mapping>, tokenBufferSize: UInt) -> Int {
        let pageSize = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let old = before.sorted { $0.start < $1.start }
        var released = 0
        for mapping in anonymousMappings() {
            for range in uncovered(mapping, by: old) where range.length >= tokenBufferSize {
                released += releaseZeroPages(range, pageSize: pageSize)
            }
        }
        return released
    }

    /// The parts of `mapping` that no mapping in `old` (sorted by start) covered.
    static func uncovered(_ mapping: Mapping, by old: [Mapping]) -> [Mapping] {
        var ranges: [Mapping] = []
        var cursor = mapping.start
        for covered in old where covered.end > cursor && covered.start < mapping.end {
            if covered.start > cursor { ranges.append(Mapping(start: cursor, end: covered.start)) }
            cursor = max(cursor, covered.end)
        }
        if cursor < mapping.end { ranges.append(Mapping(start: cursor, end: mapping.end)) }
        return ranges
    }

    private static func releaseZeroPages(_ range: Mapping, pageSize: UInt) -> Int {
        var released = 0
        var runStart: UInt?
        func flush(upTo end: UInt) {
            if let start = runStart, end > start,
                madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), MADV_DONTNEED) == 0
            {
                released += Int(end - start)
            }
            runStart = nil
        }
        var page = range.start
        while page < range.end {
            if isZero(page: page, size: pageSize) {
                if runStart == nil { runStart = page }
            } else {
                flush(upTo: page)
            }
            page += pageSize
        }
        flush(upTo: range.end)
        return released
    }

    private static func isZero(page: UInt, size: UInt) -> Bool {
        let words = UnsafePointer<UInt64>(bitPattern: page)!
        for index in 0..<Int(size / 8) where words[index] != 0 {
            return false
        }
        return true
    }
}
