import Foundation

/// Reads a file that should be a firmware volume, refusing before it reads a byte anything a
/// VMM could not map below 4 GiB: a firmware volume ends at 4 GiB − 1, so it is at most 4 GiB.
public enum FirmwareFile {
    public static let maximumSize = FirmwareImage.fourGiB

    public enum ReadError: Error, Equatable, Sendable, CustomStringConvertible {
        case cannotOpen(path: String, reason: String)
        case notARegularFile(path: String)
        case tooLarge(path: String, size: UInt64)
        case changedWhileReading(path: String)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let reason): return "cannot read \(path): \(reason)"
            case .notARegularFile(let path): return "\(path) is not a regular file"
            case .tooLarge(let path, let size):
                return "\(path) is \(size) bytes; a firmware volume ends at 4 GiB − 1 and so is at most 4 GiB (\(FirmwareFile.maximumSize) bytes)"
            case .changedWhileReading(let path): return "\(path) changed size while it was being read"
            }
        }
    }

    /// The file's bytes, after checking its size with fstat on the descriptor that is read.
    public static func read(_ path: String) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw .notARegularFile(path: path) }
        let size = UInt64(status.st_size)
        guard size <= maximumSize else { throw .tooLarge(path: path, size: size) }

        var bytes = [UInt8](repeating: 0, count: Int(size))
        var filled = 0
        while filled < bytes.count {
            let got = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let start = buffer.baseAddress else { return 0 }
                return Glibc.read(fd, start + filled, buffer.count - filled)
            }
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
            guard got > 0 else { throw .changedWhileReading(path: path) }
            filled += got
        }
        return bytes
    }
}

/// What a file handed to `inspect` or `run` is, from its first and last bytes, so each command
/// can say what to pass instead.
public enum FirmwareFileKind: Equatable, Sendable {
    case elf
    /// A UEFI firmware volume ("_FVH" at offset 0x28 of EFI_FIRMWARE_VOLUME_HEADER, edk2
    /// MdePkg/Include/Pi/PiFirmwareVolume.h), as OVMF.fd and OVMF_CODE.fd begin.
    case uefiVolume
    /// A volume with the reset-vector GUID table at its end (our firmware-layout images).
    case resetVectorImage
    case unknown

    public init(_ bytes: [UInt8]) {
        if bytes.count >= 4, bytes[0..<4].elementsEqual([0x7F, 0x45, 0x4C, 0x46]) {
            self = .elf
        } else if bytes.count >= 0x2C, bytes[0x28..<0x2C].elementsEqual(Array("_FVH".utf8)) {
            self = .uefiVolume
        } else if (try? FooterTable.parse(bytes)) != nil {
            self = .resetVectorImage
        } else {
            self = .unknown
        }
    }
}
