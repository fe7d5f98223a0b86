import Glibc

/// A bare TCP connection to 127.0.0.1 that sends nothing unless told: what an attacker holding
/// sockets open does (the hostile-input tests and the hostile load benchmark).
public enum RawConnection {
    /// Connects to `port`, from the loopback address `source` (127.0.0.x: "another client" for the
    /// collector's per-address caps); reads time out after `readTimeoutSeconds`. -1 on failure, with errno.
    public static func open(port: UInt16, source: String = "127.0.0.1", readTimeoutSeconds: Int = 30) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var timeout = timeval(tv_sec: readTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = port.bigEndian
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, connected == 0 else {
            let saved = errno
            close(fd)
            errno = saved
            return -1
        }
        return fd
    }

    /// True when the peer closed the connection (read returns 0 or a reset).
    public static func readsEndOfFile(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        let count = read(fd, &byte, 1)
        return count == 0 || (count < 0 && errno == ECONNRESET)
    }
}
