import CCurl
import Synchronization

/// A libcurl easy handle, kept between requests so its live connection, TLS session and DNS cache are
/// reused: the upload of one segment is several requests (PUT, MOVE, HEAD, and the manifest's), and a
/// fresh handle for each paid a TLS handshake every time (measured: 29 ms per segment against 11 ms
/// for a bare PUT, see benchmarks/upload.sh). Used by one thread at a time, through the pool.
package final class CurlHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    package init() {
        _ = CurlHandle.globalInit
        raw = curl_easy_init()!
    }

    deinit { curl_easy_cleanup(raw) }
}

/// The idle handles of one `WebDAVClient`: a request takes one (or makes one) and gives it back.
/// At most as many handles exist as requests ever ran at once (the parallel-upload threads).
package final class CurlHandlePool: Sendable {
    private let idle = Mutex<[CurlHandle]>([])

    package init() {}

    package func withRequest<T, Failure: Error>(_ body: (CurlRequest) throws(Failure) -> T) throws(Failure) -> T {
        let handle = idle.withLock { $0.popLast() } ?? CurlHandle()
        defer { idle.withLock { $0.append(handle) } }
        return try body(CurlRequest(on: handle))
    }
}
