import Crypto
import GuestPhysical
import Payload

extension SEVKernelHashes {
    /// The largest kernel or initrd hashed: 4 GiB. QEMU loads both below 4 GiB (the initrd under
    /// the 32-bit `initrd_max`, hw/i386/x86-common.c `x86_load_linux`, formerly hw/i386/x86.c), so a larger file is no
    /// direct boot; the bound also caps the time hashing takes (seconds).
    public static let maximumFileSize: UInt64 = 1 << 32

    /// Why a kernel or initrd file could not be hashed.
    public struct FileError: Error, Equatable, Sendable, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot read \(path): \(reason)" }
    }

    /// The hashes of a kernel, an optional initrd and an optional command line, reading the
    /// files in 1 MiB pieces so a large initrd is never held in memory whole. Only regular files
    /// are read (`RegularFile`): a FIFO or a device (/dev/zero) is refused before it is opened.
    public init(kernelFile: String, initrdFile: String?, commandLine: String?) throws(FileError) {
        let initrd = try initrdFile.map { path throws(FileError) in try Self.sha256(ofFile: path) }
        self.init(
            kernelSHA256: try Self.sha256(ofFile: kernelFile),
            initrdSHA256: initrd ?? Array(SHA256.hash(data: [UInt8]())), commandLine: commandLine)
    }

    static func sha256(ofFile path: String) throws(FileError) -> [UInt8] {
        let file: RegularFile
        do { file = try RegularFile.open(path, maximumSize: maximumFileSize) } catch {
            switch error {
            case .cannotOpen(_, let reason): throw FileError(path: path, reason: reason)
            case .notARegularFile(_, let kind):
                throw FileError(path: path, reason: "it is \(kind), not a regular file; --kernel and --initrd take regular files")
            case .tooLarge(_, let size, let limit):
                throw FileError(path: path, reason: "it is \(size) bytes, more than the \(limit) (4 GiB) a direct boot loads below 4 GiB")
            }
        }
        var hasher = SHA256()
        do { try file.forEachPiece(in: 0..<file.size, pieceSize: 1 << 20) { hasher.update(bufferPointer: $0) } } catch {
            throw FileError(path: path, reason: "at offset \(hex(error.offset)): \(error.reason)")
        }
        return Array(hasher.finalize())
    }
}
