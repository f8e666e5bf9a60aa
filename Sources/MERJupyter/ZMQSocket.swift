import CZMQ
import Foundation

/// A thin, throwing face over libzmq's C API: one context, sockets that send and receive
/// whole multipart messages. A libzmq socket must only be used by one thread at a time; the
/// kernel keeps that rule by owning each socket on one thread, or behind a lock (iopub).
public struct ZMQError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public var description: String { "\(operation): \(String(cString: zmq_strerror(code)))" }
    public var interrupted: Bool { code == EINTR }
    init(_ operation: String) { self.operation = operation; code = zmq_errno() }
}

public final class ZMQContext {
    let handle: UnsafeMutableRawPointer

    public init() throws {
        guard let h = zmq_ctx_new() else { throw ZMQError("zmq_ctx_new") }
        handle = h
    }

    /// Ends the context once every socket is closed (sockets linger 0, so this never waits).
    public func terminate() {
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }
}

public final class ZMQSocket {
    public enum Kind { case router, pub, rep, req, dealer, sub
        var raw: Int32 {
            switch self {
            case .router: return ZMQ_ROUTER
            case .pub: return ZMQ_PUB
            case .rep: return ZMQ_REP
            case .req: return ZMQ_REQ
            case .dealer: return ZMQ_DEALER
            case .sub: return ZMQ_SUB
            }
        }
    }

    let handle: UnsafeMutableRawPointer
    private var closed = false

    public init(_ context: ZMQContext, _ kind: Kind) throws {
        guard let h = zmq_socket(context.handle, kind.raw) else { throw ZMQError("zmq_socket") }
        handle = h
        // Unsent messages are dropped at close: a kernel that shuts down must not hang on a
        // frontend that went away.
        var linger: Int32 = 0
        zmq_setsockopt(handle, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
    }

    deinit { close() }

    public func close() {
        if !closed { zmq_close(handle); closed = true }
    }

    public func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError("bind \(endpoint)") }
    }

    public func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError("connect \(endpoint)") }
    }

    /// Sends all frames as one message (every frame but the last with ZMQ_SNDMORE).
    public func send(_ frames: [Data]) throws {
        for (k, frame) in frames.enumerated() {
            let flags = k < frames.count - 1 ? ZMQ_SNDMORE : 0
            while true {
                let r = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
                if r >= 0 { break }
                if zmq_errno() != EINTR { throw ZMQError("zmq_send") }
            }
        }
    }

    /// Receives one whole multipart message; waits unless `wait` is false (then nil if none).
    public func receive(wait: Bool = true) throws -> [Data]? {
        var frames: [Data] = []
        while true {
            var msg = zmq_msg_t()
            zmq_msg_init(&msg)
            defer { zmq_msg_close(&msg) }
            let r = zmq_msg_recv(&msg, handle, wait || !frames.isEmpty ? 0 : ZMQ_DONTWAIT)
            if r < 0 {
                let e = zmq_errno()
                if e == EAGAIN && frames.isEmpty { return nil }
                // A signal (the frontend's SIGINT) interrupted the call: try again; it must
                // never end the kernel's loop.
                if e == EINTR { continue }
                throw ZMQError("zmq_msg_recv")
            }
            let size = zmq_msg_size(&msg)
            frames.append(size == 0 ? Data() : Data(bytes: zmq_msg_data(&msg), count: size))
            if zmq_msg_more(&msg) == 0 { return frames }
        }
    }

    /// Sets a byte-string option (a SUB socket's subscription, a socket identity).
    public func setOption(_ option: Int32, _ value: Data) {
        _ = value.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
    }

    /// Frames larger than `bytes` make libzmq drop the connection instead of buffering them:
    /// a peer without the key must not make the kernel allocate without bound before the
    /// signature is even checked.
    public func limitMessageSize(_ bytes: Int64) {
        var value = bytes
        zmq_setsockopt(handle, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size)
    }

    public static let subscribe = ZMQ_SUBSCRIBE

    /// Waits up to `timeout` ms (-1: forever) until one of `sockets` can be read; returns
    /// the indices of the readable ones (empty on timeout or when a signal interrupted the wait).
    public static func poll(_ sockets: [ZMQSocket], timeout: Int) throws -> [Int] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        let r = zmq_poll(&items, Int32(items.count), timeout)
        if r < 0 {
            if zmq_errno() == EINTR { return [] }
            throw ZMQError("zmq_poll")
        }
        return items.indices.filter { items[$0].revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
