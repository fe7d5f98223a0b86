import CCurl
import Foundation

/// One HTTP request on a pooled libcurl easy handle (`CurlHandlePool`): the handle keeps its
/// connection and TLS session for the next request, the request's own buffers live here and are
/// detached from the handle in `deinit`. Blocking: callers run it on the uploader's own threads.
package final class CurlRequest {
    private let handle: UnsafeMutableRawPointer
    private var headers: UnsafeMutablePointer<curl_slist>?
    /// Body being sent; read by `readCallback` through an Unmanaged pointer to this object.
    private var body: [UInt8] = []
    private var bodyOffset = 0
    package private(set) var responseBody: [UInt8] = []
    /// How much of the response body `responseBody` keeps (error pages, PROPFIND answers).
    package var responseLimit = 64 * 1024
    /// When set, the response body goes here in pieces instead (a GET hashed as it arrives).
    package var responseSink: ((UnsafeRawBufferPointer) -> Void)?
    /// Checked by the progress callback; set, it ends the transfer at once.
    private var abort: TransferCancellation?
    /// libcurl keeps this pointer until reset, so it is allocated, not an Array that could move.
    private let errorBuffer: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        buffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return buffer
    }()

    /// Keeps the handle alive for as long as this request uses it.
    private let owner: CurlHandle

    package init(on handle: CurlHandle) {
        owner = handle
        self.handle = handle.raw
        curl_easy_reset(self.handle)
    }

    deinit {
        // Options back to defaults first: the handle must not keep pointers into this object.
        curl_easy_reset(handle)
        curl_slist_free_all(headers)
        errorBuffer.deallocate()
    }

    /// Performs `method` on `url` and returns the HTTP status. TLS verification is always on.
    package func perform(
        method: String, url: String, body: [UInt8]? = nil, headers extra: [String] = [], target: StorageTarget,
        abort: TransferCancellation? = nil, verifyPeer: Bool = true
    ) throws(TransferError) -> Int {
        self.abort = abort
        set(CURLOPT_URL, url)
        set(CURLOPT_CUSTOMREQUEST, method)
        setLong(CURLOPT_NOSIGNAL, 1)
        // Always on, except for the one request that fetches a collector's CA to check it against a
        // fingerprint the admin gave (`CollectorTrust`): that CA is then trusted only if it matches.
        setLong(CURLOPT_SSL_VERIFYPEER, verifyPeer ? 1 : 0)
        setLong(CURLOPT_SSL_VERIFYHOST, verifyPeer ? 2 : 0)
        setLong(CURLOPT_CONNECTTIMEOUT, 15)
        setLong(CURLOPT_LOW_SPEED_LIMIT, 1)
        setLong(CURLOPT_LOW_SPEED_TIME, target.stallTimeoutSeconds)
        if let caFile = target.caFile { set(CURLOPT_CAINFO, caFile) }
        if let certificate = target.clientCertificate { set(CURLOPT_SSLCERT, certificate) }
        if let key = target.clientKey { set(CURLOPT_SSLKEY, key) }
        if let cap = target.maxBytesPerSecond { setOffset(CURLOPT_MAX_SEND_SPEED_LARGE, curl_off_t(cap)) }
        switch target.credentials {
        case .none:
            break
        case .basic(let user, let password):
            setLong(CURLOPT_HTTPAUTH, ccurl_auth_basic())
            set(CURLOPT_USERNAME, user)
            set(CURLOPT_PASSWORD, password)
        case .digest(let user, let password):
            setLong(CURLOPT_HTTPAUTH, ccurl_auth_digest())
            set(CURLOPT_USERNAME, user)
            set(CURLOPT_PASSWORD, password)
        case .bearer(let token):
            setLong(CURLOPT_HTTPAUTH, ccurl_auth_bearer())
            set(CURLOPT_XOAUTH2_BEARER, token)
        }
        // No "Expect: 100-continue" round trip: our bodies are small and Digest answers 401 first anyway.
        for header in extra + ["Expect:"] { headers = curl_slist_append(headers, header) }
        _ = ccurl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers))
        _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer)

        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        _ = ccurl_setopt_io_callback(handle, CURLOPT_WRITEFUNCTION, CurlRequest.writeCallback)
        if abort != nil {
            setLong(CURLOPT_NOPROGRESS, 0)
            _ = ccurl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)
            _ = ccurl_setopt_xferinfo_callback(handle, CurlRequest.progressCallback)
        }
        if let body {
            self.body = body
            bodyOffset = 0
            setLong(CURLOPT_UPLOAD, 1)
            setOffset(CURLOPT_INFILESIZE_LARGE, curl_off_t(body.count))
            _ = ccurl_setopt_pointer(handle, CURLOPT_READDATA, context)
            _ = ccurl_setopt_io_callback(handle, CURLOPT_READFUNCTION, CurlRequest.readCallback)
            _ = ccurl_setopt_pointer(handle, CURLOPT_SEEKDATA, context)
            _ = ccurl_setopt_seek_callback(handle, CurlRequest.seekCallback)
            // CURLOPT_UPLOAD turns the request into PUT; the custom method above still wins (e.g. for MKCOL).
        } else if method == "HEAD" {
            setLong(CURLOPT_NOBODY, 1)
        }

        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else {
            let detail =
                errorBuffer.pointee == 0
                ? String(validatingCString: curl_easy_strerror(code)) ?? "\(code)"
                : String(validatingCString: errorBuffer) ?? "\(code)"
            switch code {
            case CURLE_ABORTED_BY_CALLBACK:
                throw TransferError(.transient, "\(method) \(url): abandoned because the agent is stopping")
            case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CONNECT_ERROR,
                CURLE_SSL_CERTPROBLEM:
                throw TransferError(.tls, "\(method) \(url): TLS failed, nothing was sent: \(detail)")
            case _
            where (code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR) && detail.contains("SSL routines")
                && detail.contains("alert"):
                // TLS 1.3 servers refuse a missing or untrusted client certificate after the handshake,
                // with an alert on the first read: a configuration problem, not a network one.
                throw TransferError(
                    .tls,
                    "\(method) \(url): the server refused our TLS session (client certificate missing or not trusted? check storage.client_certificate and storage.client_key): \(detail)"
                )
            default:
                throw TransferError(.transient, "\(method) \(url): \(detail)")
            }
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return status
    }

    package var contentLength: Int64 {
        var length: curl_off_t = -1
        _ = ccurl_getinfo_off_t(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length)
        return Int64(length)
    }

    private func set(_ option: CURLoption, _ value: String) { _ = ccurl_setopt_string(handle, option, value) }
    private func setLong(_ option: CURLoption, _ value: Int) { _ = ccurl_setopt_long(handle, option, value) }
    private func setOffset(_ option: CURLoption, _ value: curl_off_t) { _ = ccurl_setopt_int64(handle, option, value) }

    private static let writeCallback: ccurl_io_callback = { buffer, size, count, user in
        let request = Unmanaged<CurlRequest>.fromOpaque(user!).takeUnretainedValue()
        let length = size * count
        guard let buffer else { return length }
        let piece = UnsafeRawBufferPointer(start: buffer, count: length)
        if let sink = request.responseSink {
            sink(piece)
        } else if request.responseBody.count < request.responseLimit {
            request.responseBody.append(contentsOf: piece.prefix(request.responseLimit - request.responseBody.count))
        }
        return length
    }

    private static let progressCallback: ccurl_xferinfo_callback = { user, _, _, _, _ in
        let request = Unmanaged<CurlRequest>.fromOpaque(user!).takeUnretainedValue()
        return request.abort?.isAborted == true ? 1 : 0
    }

    private static let seekCallback: ccurl_seek_callback = { user, offset, origin in
        let request = Unmanaged<CurlRequest>.fromOpaque(user!).takeUnretainedValue()
        guard origin == SEEK_SET, offset >= 0, offset <= request.body.count else { return ccurl_seekfunc_fail() }
        request.bodyOffset = Int(offset)
        return ccurl_seekfunc_ok()
    }

    private static let readCallback: ccurl_io_callback = { buffer, size, count, user in
        let request = Unmanaged<CurlRequest>.fromOpaque(user!).takeUnretainedValue()
        let length = min(size * count, request.body.count - request.bodyOffset)
        guard length > 0, let buffer else { return 0 }
        request.body.withUnsafeBytes { source in
            UnsafeMutableRawPointer(buffer).copyMemory(
                from: source.baseAddress! + request.bodyOffset, byteCount: length)
        }
        request.bodyOffset += length
        return length
    }
}
