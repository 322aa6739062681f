import Foundation
import GuestPhysical

/// Opens a file that should be a firmware volume, refusing before it reads a byte anything a
/// VMM could not map below 4 GiB (a firmware volume ends at 4 GiB − 1, so it is at most 4 GiB)
/// and anything that is not a regular file (`RegularFile`: a FIFO, a device or a directory is
/// refused before it is opened for reading).
public enum FirmwareFile {
    public static let maximumSize = FirmwareImage.fourGiB

    public enum ReadError: Error, Equatable, Sendable, CustomStringConvertible {
        case cannotOpen(path: String, reason: String)
        /// `kind`: "a FIFO", "a character device", "a directory", …
        case notARegularFile(path: String, kind: String)
        case tooLarge(path: String, size: UInt64)

        public var description: String {
            switch self {
            case .cannotOpen(let path, let reason): return "cannot read \(path): \(reason)"
            case .notARegularFile(let path, let kind):
                return "\(path) is \(kind), not a regular file: firmware volumes are read from regular files only"
            case .tooLarge(let path, let size):
                return "\(path) is \(size) bytes; a firmware volume ends at 4 GiB − 1 and so is at most 4 GiB (\(FirmwareFile.maximumSize) bytes)"
            }
        }

        init(_ error: RegularFile.OpenError) {
            switch error {
            case .cannotOpen(let path, let reason): self = .cannotOpen(path: path, reason: reason)
            case .notARegularFile(let path, let kind): self = .notARegularFile(path: path, kind: kind)
            case .tooLarge(let path, let size, _): self = .tooLarge(path: path, size: size)
            }
        }
    }

    /// The file opened for reading by offset: `inspect` reads the tables and hashes the image
    /// from it piece by piece, never holding the whole volume.
    public static func open(_ path: String) throws(ReadError) -> FirmwareContents {
        do { return FirmwareContents(try RegularFile.open(path, maximumSize: maximumSize)) } catch { throw ReadError(error) }
    }

    /// The file's bytes, for the commands that load the whole image into guest memory anyway.
    public static func read(_ path: String) throws(ReadError) -> [UInt8] {
        let contents = try open(path)
        do { return try contents.bytes(at: 0, count: contents.count) ?? [] } catch {
            guard case .unreadable(_, let at, let reason) = error else { throw .cannotOpen(path: path, reason: error.description) }
            throw .cannotOpen(path: path, reason: "at file offset \(hex(at)): \(reason)")
        }
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
        self.init(FirmwareContents(bytes))
    }

    /// Reads only the first 0x2C bytes and the footer table.
    public init(_ contents: FirmwareContents) {
        let head = (try? contents.bytes(at: 0, count: min(contents.count, 0x2C))) ?? []
        if head.count >= 4, head[0..<4].elementsEqual([0x7F, 0x45, 0x4C, 0x46]) {
            self = .elf
        } else if head.count >= 0x2C, head[0x28..<0x2C].elementsEqual(Array("_FVH".utf8)) {
            self = .uefiVolume
        } else if (try? FooterTable.parse(contents)) != nil {
            self = .resetVectorImage
        } else {
            self = .unknown
        }
    }
}
