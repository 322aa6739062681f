import Crypto
import Payload

/// The table of kernel, initrd and command-line SHA-256 hashes QEMU places in the area the
/// firmware's hash-table block names (target/i386/sev.c, `SevHashTable`): a GUID header,
/// a u16 length, then three (GUID, u16 length, hash) entries — cmdline, initrd, kernel —
/// padded to a multiple of 16 bytes.
public struct SEVKernelHashes: Equatable, Sendable {
    public let kernel: [UInt8]
    public let initrd: [UInt8]
    public let cmdline: [UInt8]

    /// Hashes the three inputs as QEMU does: an absent initrd hashes as empty, and the command
    /// line is hashed with its terminating NUL.
    public init(kernel: [UInt8], initrd: [UInt8]?, commandLine: String?) {
        self.kernel = Array(SHA256.hash(data: kernel))
        self.initrd = Array(SHA256.hash(data: initrd ?? []))
        self.cmdline = Array(SHA256.hash(data: Array((commandLine ?? "").utf8) + [0]))
    }

    /// From hashes already computed (SHA-256 of the kernel and initrd files, streamed by the
    /// caller), hashing the command line as QEMU does.
    public init(kernelSHA256: [UInt8], initrdSHA256: [UInt8], commandLine: String?) {
        kernel = kernelSHA256
        initrd = initrdSHA256
        cmdline = Array(SHA256.hash(data: Array((commandLine ?? "").utf8) + [0]))
    }

    static let entrySize = 16 + 2 + 32
    static let tableSize = 16 + 2 + 3 * entrySize

    /// The padded table bytes.
    public var table: [UInt8] {
        var out: [UInt8] = KnownFirmwareGUID.sevHashTableHeader.bytes
        out += [UInt8(Self.tableSize & 0xFF), UInt8(Self.tableSize >> 8)]
        for (guid, hash) in [
            (KnownFirmwareGUID.sevCmdlineEntry, cmdline),
            (KnownFirmwareGUID.sevInitrdEntry, initrd),
            (KnownFirmwareGUID.sevKernelEntry, kernel),
        ] {
            out += guid.bytes
            out += [UInt8(Self.entrySize & 0xFF), UInt8(Self.entrySize >> 8)]
            out += hash
        }
        let padded = (out.count + 15) / 16 * 16
        return out + [UInt8](repeating: 0, count: padded - out.count)
    }

    /// A page holding the table at `offset` (the hash area's GPA within its page), or nil when
    /// the table would not fit in the page there.
    public func page(tableAt offset: Int) -> [UInt8]? {
        var page = [UInt8](repeating: 0, count: 4096)
        let table = self.table
        guard offset >= 0, offset <= page.count - table.count else { return nil }
        page.replaceSubrange(offset..<(offset + table.count), with: table)
        return page
    }
}
