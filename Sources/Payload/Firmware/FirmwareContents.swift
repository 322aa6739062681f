/// The bytes of a firmware image, read by file offset: an array already in memory, or a file
/// read with pread piece by piece. A volume may be 4 GiB; reading it from the file keeps the
/// memory a pass over it holds to one piece (`pieceSize`) and maps none of it, so inspecting
/// it works under an address-space limit that the whole file would exceed.
public struct FirmwareContents: Sendable {
    /// The largest piece `forEachPiece` reads at once.
    public static let pieceSize = 1 << 20

    /// The image size in bytes.
    public let count: Int
    private let source: Source

    private enum Source: Sendable {
        case memory([UInt8])
        case file(RegularFile)
    }

    public init(_ bytes: [UInt8]) {
        count = bytes.count
        source = .memory(bytes)
    }

    /// A file opened by `FirmwareFile.open`, whose size already fits an `Int`.
    init(_ file: RegularFile) {
        count = Int(file.size)
        source = .file(file)
    }

    /// The `length` bytes at `offset`, or nil when that range is not inside the image. Throws
    /// only when the file cannot be read there.
    public func bytes(at offset: Int, count length: Int) throws(FirmwareError) -> [UInt8]? {
        guard offset >= 0, length >= 0, offset <= count - length else { return nil }
        switch source {
        case .memory(let bytes):
            return Array(bytes[offset..<(offset + length)])
        case .file(let file):
            var out = [UInt8](repeating: 0, count: length)
            let failure = out.withUnsafeMutableBytes { buffer -> RegularFile.ReadError? in
                do throws(RegularFile.ReadError) { try file.read(into: buffer, at: UInt64(offset)) } catch { return error }
                return nil
            }
            if let failure { throw .unreadable(path: failure.path, at: failure.offset, reason: failure.reason) }
            return out
        }
    }

    /// Calls `body` with `range` in consecutive pieces of at most `pieceSize` bytes, reusing one
    /// buffer for a file. `range` must lie inside the image (callers check it first).
    public func forEachPiece(in range: Range<Int>, _ body: (UnsafeRawBufferPointer) -> Void) throws(FirmwareError) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "a piece range outside the image")
        switch source {
        case .memory(let bytes):
            bytes.withUnsafeBytes { all in
                var start = range.lowerBound
                while start < range.upperBound {
                    let end = min(start + Self.pieceSize, range.upperBound)
                    body(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                    start = end
                }
            }
        case .file(let file):
            do { try file.forEachPiece(in: UInt64(range.lowerBound)..<UInt64(range.upperBound), pieceSize: Self.pieceSize, body) } catch {
                throw .unreadable(path: error.path, at: error.offset, reason: error.reason)
            }
        }
    }
}
