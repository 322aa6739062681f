import Foundation
import GuestPhysical

/// A regular file open for reading, and only a regular file. The path is checked with stat(2)
/// before it is opened, so a FIFO with no writer (where open(2) for reading blocks until one
/// appears) or a device (where reading never ends: /dev/zero) is refused without being opened.
/// The open itself is O_NONBLOCK and fstat(2) checks the descriptor, so a path swapped for a
/// FIFO or a device between the two calls is refused too instead of blocking. Reads use
/// pread(2) at the offsets asked for, so a caller holds only the pieces it reads.
public final class RegularFile: Sendable {
    public let path: String
    /// The size fstat reported when the file was opened.
    public let size: UInt64
    private let descriptor: Int32

    /// Why a path was not opened.
    public enum OpenError: Error, Equatable, Sendable {
        case cannotOpen(path: String, reason: String)
        /// `kind` is what it is instead: "a FIFO", "a character device", "a directory", …
        case notARegularFile(path: String, kind: String)
        case tooLarge(path: String, size: UInt64, limit: UInt64)
    }

    /// A read that did not return the bytes asked for.
    public struct ReadError: Error, Equatable, Sendable, CustomStringConvertible {
        public let path: String
        public let offset: UInt64
        public let reason: String
        public var description: String { "cannot read \(path) at offset \(hex(offset)): \(reason)" }
    }

    private init(path: String, size: UInt64, descriptor: Int32) {
        self.path = path
        self.size = size
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Opens `path` when it names a regular file (symbolic links followed) of at most
    /// `maximumSize` bytes.
    public static func open(_ path: String, maximumSize: UInt64) throws(OpenError) -> RegularFile {
        var named = stat()
        guard stat(path, &named) == 0 else { throw .cannotOpen(path: path, reason: lastError()) }
        if let kind = nonRegularKind(named.st_mode) { throw .notARegularFile(path: path, kind: kind) }

        let descriptor = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(path: path, reason: lastError()) }
        var opened = stat()
        guard fstat(descriptor, &opened) == 0 else {
            let reason = lastError()
            close(descriptor)
            throw .cannotOpen(path: path, reason: reason)
        }
        if let kind = nonRegularKind(opened.st_mode) {
            close(descriptor)
            throw .notARegularFile(path: path, kind: kind)
        }
        let size = UInt64(opened.st_size)
        guard size <= maximumSize else {
            close(descriptor)
            throw .tooLarge(path: path, size: size, limit: maximumSize)
        }
        return RegularFile(path: path, size: size, descriptor: descriptor)
    }

    /// Fills `buffer` from `offset`; a file that ends early (it shrank after it was opened) or
    /// fails to read throws, naming the offset.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(ReadError) {
        guard let base = buffer.baseAddress else { return }
        var filled = 0
        while filled < buffer.count {
            let got = pread(descriptor, base + filled, buffer.count - filled, off_t(offset) + off_t(filled))
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw ReadError(path: path, offset: offset + UInt64(filled), reason: Self.lastError()) }
            guard got > 0 else {
                throw ReadError(
                    path: path, offset: offset + UInt64(filled),
                    reason: "the file ends there: it was \(size) bytes when opened and changed since")
            }
            filled += got
        }
    }

    /// Calls `body` with `range` in consecutive pieces of at most `pieceSize` bytes read into one
    /// reused buffer, so a pass over a file of any size holds `pieceSize` bytes.
    public func forEachPiece(
        in range: Range<UInt64>, pieceSize: Int,
        _ body: (UnsafeRawBufferPointer) -> Void
    ) throws(ReadError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Int(min(UInt64(pieceSize), UInt64(range.count))),
            alignment: 16)
        defer { buffer.deallocate() }
        var start = range.lowerBound
        while start < range.upperBound {
            let piece = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(min(UInt64(buffer.count), range.upperBound - start))])
            try read(into: piece, at: start)
            body(UnsafeRawBufferPointer(piece))
            start += UInt64(piece.count)
        }
    }

    /// What a file of mode `mode` is when it is not a regular file.
    private static func nonRegularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
